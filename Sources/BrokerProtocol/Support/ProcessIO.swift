#if canImport(Glibc)
    import Glibc
#endif

/// Reading files, standard input and the environment without Foundation, for every executable.
public enum ProcessIO {
    /// The whole file at `path`, or nil with `errno` set when it cannot be opened.
    public static func readFile(_ path: String) -> [UInt8]? {
        guard let handle = fopen(path, "rb") else { return nil }
        defer { fclose(handle) }
        return readAll { buffer in fread(buffer.baseAddress, 1, buffer.count, handle) }
    }

    /// All of standard input.
    public static func readStandardInput() -> [UInt8] {
        readAll { buffer in read(0, buffer.baseAddress, buffer.count) }
    }

    /// The text of the last `strerror(errno)`, for messages.
    public static var lastErrorMessage: String { String(cString: strerror(errno)) }

    /// The process environment as a dictionary.
    public static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// One environment variable, nil when unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    private static func readAll(_ readChunk: (UnsafeMutableBufferPointer<UInt8>) -> Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { readChunk($0) }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }
}
