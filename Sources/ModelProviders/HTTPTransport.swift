import BrokerProtocol
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends one JSON POST and waits for the answer, on the calling thread.
///
/// URLSession (libcurl on Linux) does the HTTP and TLS; the calling thread
/// waits on a semaphore, which is fine on the broker's and agents' own
/// threads and must not happen on the cooperative pool.
struct HTTPTransport: Sendable {
    let timeoutSeconds: Double

    /// The status and body of the response to `body` POSTed to `url` with `headers`.
    func post(url: URL, headers: [String: String], body: JSON) throws(ModelError) -> (status: Int, body: [UInt8]) {
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body.serialized)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = outcome.get()
        if let error {
            let code = (error as NSError).code
            if code == NSURLErrorTimedOut { throw .timeout(seconds: timeoutSeconds) }
            throw .transport(error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else { throw .transport("no HTTP response") }
        return (http.statusCode, [UInt8](data ?? Data()))
    }
}

/// The completion handler's results, handed to the waiting thread.
private final class Outcome: @unchecked Sendable {
    // @unchecked Sendable: written once by URLSession's queue before the semaphore signals,
    // read by the waiting thread after it; `lock` orders the two.
    private let lock = NSLock()
    private var data: Data?
    private var response: URLResponse?
    private var error: (any Error)?

    func set(data: Data?, response: URLResponse?, error: (any Error)?) {
        lock.lock()
        self.data = data
        self.response = response
        self.error = error
        lock.unlock()
    }

    func get() -> (Data?, URLResponse?, (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        return (data, response, error)
    }
}

/// The most useful line of an error body: the API's `error.message` when there is one.
func errorMessage(_ body: [UInt8]) -> String {
    if let json = try? JSONParser.parse(body) {
        if let message = json["error"]?["message"]?.stringValue { return message }
        if let message = json["error"]?.stringValue { return message }
        if let message = json["message"]?.stringValue { return message }
    }
    return String(String(decoding: body.prefix(300), as: UTF8.self))
}
