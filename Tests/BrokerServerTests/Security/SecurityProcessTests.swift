import BrokerClient
import BrokerProtocol
import Foundation
import Testing
import ZeroMQ

/// The security settings as a user meets them: real broker and brokerctl processes.
@Suite("security: broker and brokerctl processes")
struct SecurityProcessTests {
    typealias BrokerProcess = BrokerProcessTests.BrokerProcess

    @Test("protected mode: no keys and a non-loopback endpoint refuse to start; --insecure or keys start")
    func protectedMode() throws {
        let directory = TestBroker.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let exposed = [
            "--api", "tcp://0.0.0.0:*", "--events", "ipc://\(directory)/events.sock", "--workers",
            "ipc://\(directory)/workers.sock", "--db", directory + "/refused.db",
        ]
        let refused = try Processes.run("broker", exposed, timeout: 20)
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n").filter { $0.contains("protected mode") }
        #expect(lines.count == 1, "\(refused.stderr)")
        #expect(lines.first?.contains("tcp://0.0.0.0:*") == true)
        #expect(lines.first?.contains("--curve-secret-key") == true && lines.first?.contains("--insecure") == true)
        #expect(!FileManager.default.fileExists(atPath: directory + "/refused.db"), "a refused start opened the database")
        let everywhere = try Processes.run("broker", ["--api", "tcp://*:*"] + exposed.dropFirst(2), timeout: 20)
        #expect(everywhere.status == 1 && everywhere.stderr.contains("protected mode"))

        // --insecure starts, warns, and serves other hosts' addresses (reached here through 127.0.0.1).
        let insecure = try Processes.start(
            "broker", exposed.dropLast(1) + [directory + "/insecure.db", "--insecure"], logFile: directory + "/insecure.log")
        defer { insecure.terminate(); _ = Processes.waitForExit(insecure, timeout: 15) }
        let port = try boundPort(logFile: directory + "/insecure.log")
        let context = try ZMQContext()
        #expect(try RPCClient(endpoint: "tcp://127.0.0.1:\(port)", context: context).call("broker:ping")["version"] != nil)
        let log = (try? String(contentsOfFile: directory + "/insecure.log", encoding: .utf8)) ?? ""
        #expect(log.contains("insecure:") && log.contains("without authentication"))

        // Keys: starts on a non-loopback endpoint without --insecure.
        let keys = try TestKeys()
        let admin = try keys.add("admin", role: "admin")
        let secured = try Processes.start(
            "broker",
            [
                "--api", "tcp://0.0.0.0:*", "--events", "ipc://\(directory)/secured-events.sock", "--workers",
                "ipc://\(directory)/secured-workers.sock", "--db", directory + "/secured.db", "--curve-secret-key",
                keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory,
            ], logFile: directory + "/secured.log")
        defer { secured.terminate(); _ = Processes.waitForExit(secured, timeout: 15) }
        let securedPort = try boundPort(logFile: directory + "/secured.log")
        let client = RPCClient(endpoint: "tcp://127.0.0.1:\(securedPort)", context: context, curve: admin)
        #expect(try client.call("broker:ping")["version"] != nil)
    }

    @Test("SIGHUP: a removed key is refused afterwards without a restart; the others keep working")
    func sighupRevocation() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        try keys.add("watcher", role: "reader")
        let broker = try BrokerProcess()
        try broker.start(
            arguments: ["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory],
            curve: keys.keys("admin"))
        defer { broker.stop() }
        let reader = RPCClient(endpoint: broker.api, context: broker.context, curve: try keys.keys("watcher"))
        let admin = RPCClient(endpoint: broker.api, context: broker.context, curve: try keys.keys("admin"))
        #expect(try reader.call("session:list")["sessions"] != nil)
        try keys.revoke("watcher")
        kill(try #require(broker.process).processIdentifier, SIGHUP)
        var refused = false
        for _ in 0..<50 where !refused {
            do { _ = try reader.call("session:list") } catch {
                guard case .rpc(let rpcError) = error else { throw error }
                refused = rpcError.kind == .unauthorized
            }
            if !refused { usleep(50_000) }
        }
        #expect(refused, "the removed key was still served after SIGHUP")
        #expect(try admin.call("session:list")["sessions"] != nil)
        #expect(broker.process?.isRunning == true)
        #expect(broker.log.contains("auth: reloaded"))
    }

    @Test("clients folder: malformed and role-less files are skipped with a warning, the rest load")
    func malformedClientFiles() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        let bad: [(String, String)] = [
            ("garbage.key", "this is not a certificate\n"),
            ("short.key", "curve\n    public-key = \"tooshort\"\n"),
            ("unquoted.key", "curve\n    public-key = \"abc\n"),
        ]
        for (name, text) in bad {
            try text.write(toFile: keys.clientsDirectory + "/" + name, atomically: true, encoding: .utf8)
        }
        let norole = try keys.add("norole", role: "admin")
        try keys.authorize(norole.keys.publicKey, name: "norole", role: nil)
        let oddrole = try keys.add("oddrole", role: "admin")
        try keys.authorize(oddrole.keys.publicKey, name: "oddrole", role: "root")
        chmod(keys.clientsDirectory, 0o777)  // anyone may write there: said at start
        let broker = try BrokerProcess()
        try broker.start(
            arguments: ["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory],
            curve: keys.keys("admin"))
        defer { broker.stop() }
        let log = broker.log
        #expect(log.contains("the clients directory") && log.contains("writable by other users"), "\(log)")
        for name in ["garbage.key", "short.key", "unquoted.key", "norole.key", "oddrole.key"] {
            #expect(log.contains(name) && log.contains("skipped"), "\(name) not reported: \(log)")
        }
        #expect(log.contains("unknown role 'root'"))
        let roleless = RPCClient(endpoint: broker.api, context: broker.context, timeoutMs: 500, attempts: 1, curve: norole)
        #expect(throws: ClientError.self) { try roleless.call("broker:ping") }
    }

    @Test("start refusals: a missing clients folder, a broken or public-only secret key; loose permissions warn")
    func keyFileProblems() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        let directory = TestBroker.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func start(_ arguments: [String]) throws -> Processes.Output {
            try Processes.run(
                "broker",
                [
                    "--api", "ipc://\(directory)/a.sock", "--events", "ipc://\(directory)/e.sock", "--workers",
                    "ipc://\(directory)/w.sock", "--db", directory + "/b.db",
                ] + arguments, timeout: 20)
        }
        let missing = try start(["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", directory + "/nope"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read the clients directory"), "\(missing.stderr)")
        let publicOnly = try start(["--curve-secret-key", keys.brokerPublicFile, "--curve-clients", keys.clientsDirectory])
        #expect(publicOnly.status == 1 && publicOnly.stderr.contains("holds no secret key"), "\(publicOnly.stderr)")
        let broken = directory + "/broken.key_secret"
        try "curve\n    public-key = \"x\"\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let brokenRun = try start(["--curve-secret-key", broken, "--curve-clients", keys.clientsDirectory])
        #expect(brokenRun.status == 1 && brokenRun.stderr.contains("broken.key_secret"), "\(brokenRun.stderr)")
        let alone = try start(["--curve-secret-key", keys.brokerSecretFile])
        #expect(alone.status != 0 && alone.stderr.contains("--curve-clients"), "\(alone.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/b.db"), "a refused start opened the database")

        chmod(keys.brokerSecretFile, 0o644)
        let broker = try BrokerProcess()
        try broker.start(
            arguments: ["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory],
            curve: keys.keys("admin"))
        defer { broker.stop() }
        #expect(broker.log.contains("readable by other users") && broker.log.contains("chmod 600"))
    }
}

/// The port a broker bound for `tcp://…:*`, read from its "serving" log line.
func boundPort(logFile: String) throws -> Int {
    for _ in 0..<200 {
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        if let range = log.range(of: #"api=tcp://[^ ]*:(\d+)"#, options: .regularExpression) {
            let match = log[range]
            if let port = Int(match.split(separator: ":").last ?? "") { return port }
        }
        usleep(25_000)
    }
    throw TestFailure("no serving line in \(logFile)")
}
