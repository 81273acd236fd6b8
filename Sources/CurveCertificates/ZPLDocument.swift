/// A ZeroMQ Property Language document (ZeroMQ RFC 4/ZPL), as CurveZMQ certificate files use it.
///
/// Only what certificates need: sections and `name = value` properties, nested
/// by four-space indentation, `#` comments, values quoted with `"` or `'` or left
/// bare. A property's path is its names joined by `/` (`curve/public-key`).
public struct ZPLDocument: Sendable, Equatable {
    /// Every property in file order, by path.
    public private(set) var properties: [(path: String, value: String)] = []

    public init() {}

    public static func == (lhs: ZPLDocument, rhs: ZPLDocument) -> Bool {
        lhs.properties.map(\.path) == rhs.properties.map(\.path)
            && lhs.properties.map(\.value) == rhs.properties.map(\.value)
    }

    /// The value at `path`, or nil.
    public subscript(path: String) -> String? { properties.last { $0.path == path }?.value }

    /// The properties directly under `section`, in order (`metadata` gives its name/value pairs).
    public func children(of section: String) -> [(name: String, value: String)] {
        let prefix = section + "/"
        return properties.compactMap { property in
            guard property.path.hasPrefix(prefix) else { return nil }
            let name = property.path.dropFirst(prefix.count)
            return name.contains("/") ? nil : (String(name), property.value)
        }
    }

    /// Parses `text`; throws with the line number and the problem.
    public static func parse(_ text: String) throws(ZPLError) -> ZPLDocument {
        var document = ZPLDocument()
        var stack: [String] = []
        // Split on any line break: "\r\n" is one Character in Swift, so splitting on "\n" alone would miss it.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let body = line.drop { $0 == " " }
            if body.isEmpty || body.hasPrefix("#") { continue }
            let indent = line.count - body.count
            guard indent % 4 == 0, indent / 4 <= stack.count else {
                throw ZPLError(line: number, "indentation must be a multiple of 4 spaces, one level at a time")
            }
            stack.removeLast(stack.count - indent / 4)
            let (name, value) = try property(body, line: number)
            // The line is not quoted back: a mistyped secret-key line would put the key in a log.
            guard isValidName(name) else {
                throw ZPLError(line: number, "expected 'name = value' or a section name")
            }
            if let value {
                document.properties.append(((stack + [name]).joined(separator: "/"), value))
            }
            stack.append(name)
        }
        return document
    }

    /// Splits `name = value` (value nil for a bare section name), unquoting a quoted value.
    private static func property(_ body: Substring, line: Int) throws(ZPLError) -> (String, String?) {
        guard let equals = body.firstIndex(of: "=") else {
            let name = body.prefix { $0 != "#" }.trimmingSpaces
            return (name, nil)
        }
        let name = body[..<equals].trimmingSpaces
        var rest = Substring(body[body.index(after: equals)...].trimmingSpaces)
        guard let first = rest.first, first == "\"" || first == "'" else {
            // A bare value runs to the end of the line: pyzmq writes metadata unquoted, and Z85 keys hold '#'.
            return (name, String(rest))
        }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: first) else {
            throw ZPLError(line: line, "a quoted value has no closing \(first)")
        }
        return (name, String(rest[..<close]))
    }

    /// Whether `name` can be written as a ZPL property name.
    static func isValidName(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy(isNameCharacter) }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("$-_@.&+/".utf8).contains(byte)
        }
    }
}

/// A ZPL document that cannot be read, with the line where reading stopped.
public struct ZPLError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let problem: String

    init(line: Int, _ problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
