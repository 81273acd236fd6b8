import BrokerClient
import BrokerProtocol
import Threading
import ZeroMQ

/// Reads an open export's pieces on a thread of its own, up to `depth` pieces ahead of the caller.
///
/// One piece at a time, the broker would sit idle while brokerctl compresses and writes a piece, and
/// brokerctl would sit idle while the broker builds the next. With the next piece already asked for,
/// the two overlap (on two cores, export went from 92 to 115 MB/s in the portability bench). Memory stays
/// bounded: at most `depth` pieces wait, and the thread asks for another only when one is taken.
final class ExportPrefetch: Sendable {
    /// One `export:read` result with its data frame, or why reading stopped.
    enum Fetched: Sendable {
        case piece(result: JSONObject, data: [UInt8])
        case failed(any Error & Sendable)
    }

    /// One token per piece the thread may still fetch; the pieces fetched, in order.
    private let room: WorkQueue<Bool>
    private let fetched: WorkQueue<Fetched>
    private let thread: NamedThread

    init(
        endpoint: String, curve: CurveClientKeys?, timeoutMs: Int, exportId: String, pieceBytes: Int, depth: Int = 2
    ) throws {
        let context = try ZMQContext()
        let (room, fetched) = (WorkQueue<Bool>(), WorkQueue<Fetched>())
        (self.room, self.fetched) = (room, fetched)
        for _ in 0..<depth { room.push(true) }
        thread = NamedThread(name: "export-reads") {
            // Its own socket: RPCClient belongs to one thread. The export is named by its id, not the socket.
            let client = RPCClient(endpoint: endpoint, context: context, timeoutMs: timeoutMs, attempts: 1, curve: curve)
            let params = JSONObject([
                ("exportId", .string(exportId)), ("maxBytes", .int(Int64(pieceBytes))), ("dataFrame", true),
            ])
            while room.pop() != nil {
                do {
                    let (result, data) = try client.call("export:read", params, data: nil)
                    guard let object = result.objectValue, let data, object["dataBytes"]?.intValue == Int64(data.count)
                    else { throw UsageError("the broker answered export:read without its data frame") }
                    fetched.push(.piece(result: object, data: data))
                    if object["done"]?.boolValue == true { break }
                } catch {
                    fetched.push(.failed(error))
                    break
                }
            }
            fetched.close()
        }
    }

    /// The next piece, in order; throws what stopped the reading.
    func next() throws -> (result: JSONObject, data: [UInt8]) {
        guard let item = fetched.pop() else { throw UsageError("the export ended before its last piece") }
        room.push(true)
        switch item {
        case .piece(let result, let data): return (result, data)
        case .failed(let error): throw error
        }
    }

    /// Stops asking for pieces and waits for the thread (at most the one call it has in flight).
    func stop() {
        // Drop the unused room first: a closed queue still hands out what it holds. Only this thread
        // adds room, so nothing can come between the two calls.
        _ = room.takeAll()
        room.close()
        thread.join()
    }
}
