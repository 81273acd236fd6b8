import ArgumentParser
import BrokerProtocol
import CurveCertificates
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// `brokerctl keys`: CurveZMQ certificates for a secured broker and its clients (files only; no broker needed).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make, show and authorize CurveZMQ certificates (ZeroMQ's ZPL files, as CZMQ and pyzmq write).",
        subcommands: [KeysGenerate.self, KeysShow.self, KeysAuthorize.self])
}

struct KeysGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new key pair: NAME.key (public, 0644) and NAME.key_secret (0600).",
        discussion: "Give the .key to whoever must know this key (the broker's operator, or the broker's clients); "
            + "keep the .key_secret where only this process can read it.")

    @Argument(help: "The certificate's name: the files are NAME.key and NAME.key_secret.")
    var name: String

    @Option(help: "The folder to write them in (default: the current folder).")
    var dir: String = "."

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw UsageError("NAME must be a plain file name, not '\(name)'")
        }
        try CurveCertificate.validateMetadata(name: "name", value: name)
        let certificate = try CurveCertificate.generate(metadata: [("name", name)])
        let paths = try certificate.save(directory: dir, name: name)
        if json {
            print(
                Pretty.json(
                    .object(
                        JSONObject([
                            ("name", .string(name)), ("publicKey", .string(certificate.publicKey.z85)),
                            ("publicFile", .string(paths.publicPath)), ("secretFile", .string(paths.secretPath)),
                        ]))))
        } else {
            print("public key  \(certificate.publicKey.z85)")
            print("wrote       \(paths.publicPath) (share it)")
            print("            \(paths.secretPath) (mode 0600, keep it secret)")
        }
    }
}

struct KeysShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a certificate's public key and metadata (never its secret key).")

    @Argument(help: "A .key or .key_secret file (ours, CZMQ's or pyzmq's).")
    var file: String

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let certificate = try CurveCertificate.load(file)
        var metadata = JSONObject()
        for (name, value) in certificate.metadata { metadata[name] = .string(value) }
        if json {
            print(
                Pretty.json(
                    .object(
                        JSONObject([
                            ("file", .string(file)), ("publicKey", .string(certificate.publicKey.z85)),
                            ("hasSecretKey", .bool(certificate.secretKey != nil)), ("metadata", .object(metadata)),
                        ]))))
            return
        }
        print("public key  \(certificate.publicKey.z85)")
        print("secret key  \(certificate.secretKey == nil ? "not in this file" : "present (not shown)")")
        for (name, value) in certificate.metadata { print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(value)") }
    }
}

struct KeysAuthorize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorize",
        abstract: "Let a client's key into a broker: copy its public key into the clients folder with a role.",
        discussion: """
            Writes CLIENTS/NAME.key holding only the public key, with name, role and services in its metadata. \
            The broker trusts that metadata (its operator wrote it), never what the client's own file claims. \
            Send the broker SIGHUP (systemctl reload agentbroker) to apply it without a restart; remove the \
            file and send SIGHUP again to revoke it.

            Roles: admin (everything), controller (what ralph needs), agent (what an agent needs; it may \
            attach as a worker for --services only), reader (reads and events).
            """)

    @Argument(help: "The client's certificate: a .key (or .key_secret; only its public key is copied).")
    var certificate: String

    @Option(help: "The broker's clients folder (its --curve-clients).")
    var clients: String

    @Option(help: "admin, controller, agent or reader.")
    var role: String

    @Option(help: "For an agent (or admin): the services it may attach for, comma-separated (dev,qa).")
    var services: String?

    @Option(help: "The name the broker logs it under (default: the certificate's file name, without .key).")
    var name: String?

    func run() throws {
        let roles = ["admin", "controller", "agent", "reader"]
        guard roles.contains(role) else {
            throw UsageError("unknown role '\(role)' (known: \(roles.joined(separator: ", ")))")
        }
        let source = try CurveCertificate.load(certificate)
        let fileName = String(certificate.split(separator: "/").last ?? "client")
        let baseName = fileName.hasSuffix(".key_secret")
            ? String(fileName.dropLast(".key_secret".count))
            : fileName.hasSuffix(".key") ? String(fileName.dropLast(".key".count)) : fileName
        // The operator's choice (--name, else the file they passed), never the name a client wrote in its own file.
        let clientName = name ?? baseName
        guard !clientName.isEmpty, !clientName.contains("/"), !clientName.hasPrefix(".") else {
            throw UsageError("the name '\(clientName)' cannot be a file name; give --name")
        }
        let serviceList = (services ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }
            .filter { !$0.isEmpty }
        if !serviceList.isEmpty && role != "agent" && role != "admin" {
            throw UsageError("--services is for the agent role (an admin may serve any service)")
        }
        if role == "agent" && serviceList.isEmpty {
            printError("brokerctl: note: an agent without --services may not attach as a worker for any service")
        }
        var metadata: [(name: String, value: String)] = [("name", clientName), ("role", role)]
        if !serviceList.isEmpty { metadata.append(("services", serviceList.joined(separator: ","))) }
        for (key, value) in metadata { try CurveCertificate.validateMetadata(name: key, value: value) }
        var status = stat()
        guard stat(clients, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw UsageError("the clients folder \(clients) does not exist (create it, or check the broker's --curve-clients)")
        }
        let target = (clients.hasSuffix("/") ? clients : clients + "/") + clientName + ".key"
        if let existing = try? CurveCertificate.load(target), existing.publicKey != source.publicKey {
            throw UsageError("\(target) already authorizes another key; choose another --name or remove that file first")
        }
        try CurveCertificate(publicKey: source.publicKey, metadata: metadata).savePublic(to: target)
        print("authorized \(clientName) (\(source.publicKey.shortName)…) as \(role)"
            + (serviceList.isEmpty ? "" : " for \(serviceList.joined(separator: ","))") + " in \(target)")
        print("apply it: send the broker SIGHUP (kill -HUP <pid>, or systemctl reload agentbroker)")
    }
}
