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
