import BrokerClient
import BrokerProtocol
import Foundation
import Testing
import ZeroMQ

/// `brokerctl keys` and brokerctl over CURVE, with certificates from brokerctl and from pyzmq.
@Suite("brokerctl keys and CURVE options")
struct KeysCommandTests {
    @Test("keys generate writes a 0644 .key and a 0600 .key_secret; keys show prints the key, never the secret")
    func generateAndShow() throws {
        let directory = TestBroker.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = try Processes.run("brokerctl", ["keys", "generate", "alice", "--dir", directory, "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let result = try JSONParser.parse(Array(made.stdout.utf8))
        let publicKey = try #require(result["publicKey"]?.stringValue)
        let modes = try [".key", ".key_secret"].map { suffix in
            try FileManager.default.attributesOfItem(atPath: directory + "/alice" + suffix)[.posixPermissions] as? Int
        }
        #expect(modes == [0o644, 0o600])
        let shown = try Processes.run("brokerctl", ["keys", "show", directory + "/alice.key_secret"])
        #expect(shown.status == 0 && shown.stdout.contains(publicKey) && shown.stdout.contains("alice"))
        let secretLine = try String(contentsOfFile: directory + "/alice.key_secret", encoding: .utf8)
            .split(separator: "\n").first { $0.contains("secret-key") }
        let secret = try #require(secretLine?.split(separator: "\"").dropFirst().first)
        #expect(!shown.stdout.contains(secret))
        let again = try Processes.run("brokerctl", ["keys", "generate", "alice", "--dir", directory])
        #expect(again.status != 0 && again.stderr.contains("File exists"), "an existing pair was overwritten")
    }

    @Test("pyzmq's certificates work with brokerctl unchanged, and pyzmq loads ours")
    func pyzmqCertificates() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        let script = """
            import sys, zmq.auth
            pub, sec = zmq.auth.create_certificates(sys.argv[1], "pyclient", metadata={"owner": "py"})
            ours = zmq.auth.load_certificate(sys.argv[2])
            print(ours[0].decode(), ours[1].decode())
            """
        let python = try Processes.run("/usr/bin/env", ["python3", "-c", script, keys.directory, keys.brokerSecretFile])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdout.contains(keys.broker.publicKey.z85), "pyzmq read another public key from ours")
        #expect(python.stdout.contains(keys.broker.secretKey!.z85), "pyzmq read another secret key from ours")

        let authorized = try Processes.run(
            "brokerctl",
            ["keys", "authorize", keys.directory + "/pyclient.key", "--clients", keys.clientsDirectory, "--role", "reader"])
        #expect(authorized.status == 0, "\(authorized.stderr)")
        let broker = try BrokerProcessTests.BrokerProcess()
        try broker.start(
            arguments: ["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory],
            curve: keys.keys("admin"))
        defer { broker.stop() }
        let asPython = ["--curve-key", keys.directory + "/pyclient.key_secret", "--curve-server-key", keys.brokerPublicFile]
        // Connection options before the subcommand, as `redis-cli -h HOST` takes them.
        let listed = try Processes.run("brokerctl", ["--api", broker.api] + asPython + ["--json", "session", "ls"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try JSONParser.parse(Array(listed.stdout.utf8)).arrayValue != nil, "\(listed.stdout)")
        // pyzmq leaves the secret file readable by others: brokerctl says so, once.
        #expect(listed.stderr.components(separatedBy: "readable by other users").count == 2, "\(listed.stderr)")
        let refused = try Processes.run(
            "brokerctl", ["session", "create", "--type", "dev", "--feature", "f", "--api", broker.api] + asPython)
        #expect(refused.status == 1 && refused.stderr.contains("not allowed for role 'reader'"), "\(refused.stderr)")
    }

    @Test("an unknown key or a wrong server key: 'no answer' and exit 3; keys from the environment work")
    func unknownKeyAndEnvironment() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        let broker = try BrokerProcessTests.BrokerProcess()
        try broker.start(
            arguments: ["--curve-secret-key", keys.brokerSecretFile, "--curve-clients", keys.clientsDirectory],
            curve: keys.keys("admin"))
        defer { broker.stop() }
        let stranger = try Processes.run("brokerctl", ["keys", "generate", "stranger", "--dir", keys.directory])
        #expect(stranger.status == 0)
        let quick = ["--timeout", "0.5", "--retries", "1", "--api", broker.api]
        for (key, serverKey) in [
            (keys.directory + "/stranger.key_secret", keys.brokerPublicFile),
            (keys.secretFile("admin"), keys.directory + "/stranger.key"),
        ] {
            let run = try Processes.run(
                "brokerctl", quick + ["--curve-key", key, "--curve-server-key", serverKey, "ping"])
            #expect(run.status == 3)
            #expect(run.stderr.contains("no answer: the broker may not know this key, or the server key is wrong"))
        }
        let plain = try Processes.run("brokerctl", quick + ["ping"])
        #expect(plain.status == 3 && plain.stderr.contains("--curve-key"), "\(plain.stderr)")
        let fromEnvironment = try Processes.run(
            "brokerctl", ["--api", broker.api, "ping"],
            environment: ["BROKER_CURVE_KEY": keys.secretFile("admin"), "BROKER_CURVE_SERVER_KEY": keys.brokerPublicFile])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let half = try Processes.run("brokerctl", ["--api", broker.api, "--curve-key", keys.secretFile("admin"), "ping"])
        #expect(half.status == 2 && half.stderr.contains("--curve-server-key"), "\(half.stderr)")
    }

    @Test("keys authorize refuses an unknown role, --services for a reader, and a name that holds another key")
    func authorizeRefusals() throws {
        let keys = try TestKeys()
        try keys.add("admin", role: "admin")
        try keys.add("other", role: "reader")
        func authorize(_ arguments: [String]) throws -> Processes.Output {
            try Processes.run(
                "brokerctl",
                ["keys", "authorize", keys.directory + "/other.key", "--clients", keys.clientsDirectory] + arguments)
        }
        #expect(try authorize(["--role", "root"]).stderr.contains("unknown role 'root'"))
        #expect(try authorize(["--role", "reader", "--services", "dev"]).status == 2)
        let clash = try authorize(["--role", "reader", "--name", "admin"])
        #expect(clash.status == 2 && clash.stderr.contains("already authorizes another key"), "\(clash.stderr)")
        let agent = try authorize(["--role", "agent", "--services", "dev, qa", "--name", "other"])
        #expect(agent.status == 0, "\(agent.stderr)")
        let file = try String(contentsOfFile: keys.clientsDirectory + "/other.key", encoding: .utf8)
        #expect(file.contains("role = \"agent\"") && file.contains("services = \"dev,qa\"") && !file.contains("secret-key"))
    }
}
