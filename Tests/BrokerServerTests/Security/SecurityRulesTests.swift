import Testing

@testable import BrokerServer

/// The rules behind security, without sockets.
@Suite("security rules")
struct SecurityRulesTests {
    @Test("protected mode: loopback, ipc and inproc are local; anything another host can reach is not")
    func localEndpoints() {
        for local in [
            "tcp://127.0.0.1:5555", "tcp://127.0.0.2:*", "tcp://localhost:5555", "tcp://[::1]:5555", "tcp://lo:5555",
            "ipc:///run/agentbroker/api.sock", "inproc://api",
        ] {
            #expect(ProtectedMode.isLocal(local), "\(local)")
        }
        for exposed in [
            "tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://eth0:5555", "tcp://192.168.1.4:5555", "tcp://[::]:5555",
            "tcp://broker.example.org:5555", "tcp://127.0.0.1.evil.org:5555", "tcp://127.0.0:5555", "tcp://128.0.0.1:1",
        ] {
            #expect(!ProtectedMode.isLocal(exposed), "\(exposed)")
        }
    }

    @Test("every method a role lists exists, and every method is allowed to admin and refused to someone or read")
    func roleTableMatchesMethods() {
        let methods = Set(Routes.table.keys)
        for listed in AccessRole.readMethods.union(AccessRole.controllerWrites).union(AccessRole.agentWrites) {
            #expect(methods.contains(listed), "\(listed) is in a role's list but not a method")
        }
        for method in methods {
            #expect(AccessRole.admin.allows(method))
            // A reader never writes: each method it may call is served by a reader thread or inline.
            if AccessRole.reader.allows(method) {
                switch Routes.table[method] {
                case .write, .compaction: Issue.record("reader may call the writing method \(method)")
                default: break
                }
            }
        }
        for method in ["session:delete", "export:open", "export:read", "import:begin", "import:commit"] {
            #expect(!AccessRole.controller.allows(method) && !AccessRole.agent.allows(method))
        }
        #expect(!AccessRole.agent.allows("job:submit") && !AccessRole.agent.allows("session:reset"))
        #expect(AccessRole.controller.allows("job:submit") && AccessRole.controller.allows("task:recordIteration"))
    }
}

@Suite("security settings")
struct SecuritySettingsTests {
    func file(_ text: String) throws -> String {
        let path = TestBroker.makeDirectory() + "/broker.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("flag beats environment beats config file; insecure from the file or the flag")
    func precedence() throws {
        let config = try file(#"{"curve": {"secretKey": "/f/b.key_secret", "clientsDir": "/f/clients"}, "insecure": true}"#)
        let fromFile = try BrokerConfiguration.resolve(flags: .init(configFile: config), environment: [:]).security
        #expect(fromFile.curveSecretKeyPath == "/f/b.key_secret" && fromFile.curveClientsDirectory == "/f/clients")
        #expect(fromFile.insecure)
        let environment = ["BROKER_CURVE_SECRET_KEY": "/e/b.key_secret", "BROKER_CURVE_CLIENTS": "/e/clients"]
        let fromEnvironment = try BrokerConfiguration.resolve(
            flags: .init(configFile: config), environment: environment
        ).security
        #expect(fromEnvironment.curveSecretKeyPath == "/e/b.key_secret")
        #expect(fromEnvironment.curveClientsDirectory == "/e/clients")
        let fromFlags = try BrokerConfiguration.resolve(
            flags: .init(curveSecretKey: "/x/b.key_secret", curveClients: "/x/c", insecure: true),
            environment: environment
        ).security
        #expect(fromFlags.curveSecretKeyPath == "/x/b.key_secret" && fromFlags.curveClientsDirectory == "/x/c")
        #expect(fromFlags.insecure)
        #expect(!(try BrokerConfiguration.resolve(flags: .init(), environment: [:]).security.insecure))
    }

    @Test("wrong shapes in the config file are errors that name the key", arguments: [
        (#"{"curve": "keys"}"#, "'curve' must be an object"),
        (#"{"curve": {"secretkey": "x"}}"#, "unknown key 'secretkey'"),
        (#"{"curve": {"clientsDir": 3}}"#, "'curve.clientsDir' must be a string"),
        (#"{"insecure": "yes"}"#, "'insecure' must be true or false"),
    ])
    func wrongShapes(text: String, message: String) throws {
        let config = try file(text)
        #expect {
            _ = try BrokerConfiguration.resolve(flags: .init(configFile: config), environment: [:])
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
