import BrokerProtocol
import SQLite

/// The validation pass of an import: the whole file is read and checked before anything is written.
public enum ImportValidation {
    /// Throws the first problem with its location (`invalid_params`), or a newer-version refusal.
    public static func check(_ plan: ImportPlan, counter: any TokenCounter) throws(RPCError) {
        do {
            if let packet = plan.packet {
                _ = try PacketFields(packet)
            } else {
                try ImportPass(plan: plan, db: nil, counter: counter).run()
            }
        } catch let problem as ImportProblem {
            throw problem.rpcError
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.internal, "the file could not be checked: \(error)")
        }
    }
}
