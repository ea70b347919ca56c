import Glibc

/// One path component as the kernel stores it: any bytes but `/` and NUL,
/// not necessarily UTF-8. Converted to `String` only to be printed.
public struct FileName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }
    public init(_ string: String) { self.bytes = string.fileSystemBytes }

    /// A valid name is non-empty, is not `.` or `..`, and holds no `/` or NUL.
    public var isValid: Bool {
        !bytes.isEmpty && bytes != [0x2E] && bytes != [0x2E, 0x2E]
            && !bytes.contains(0x2F) && !bytes.contains(0)
    }

    public static func < (a: FileName, b: FileName) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    public var description: String { Printable.path(bytes) }

    /// Calls `body` with a NUL-terminated copy on the stack.
    @inline(__always)
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try bytes.withCString(body)
    }
}

/// A path relative to a tree's root: components joined by `/`, no leading
/// or trailing `/`; the empty path is the root itself.
///
/// Paths sort component by component (as a depth-first walk that visits each
/// directory's entries in name order), which is byte order with `/` taken
/// as the lowest byte: records sorted this way merge with a walk as streams.
public struct RelativePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = string.fileSystemBytes }
    public static let root = RelativePath([UInt8]())

    public var isRoot: Bool { bytes.isEmpty }

    public func appending(_ name: FileName) -> RelativePath {
        if bytes.isEmpty { return RelativePath(name.bytes) }
        var joined = bytes
        joined.reserveCapacity(bytes.count + 1 + name.bytes.count)
        joined.append(0x2F)
        joined.append(contentsOf: name.bytes)
        return RelativePath(joined)
    }

    public var components: [FileName] {
        bytes.split(separator: 0x2F, omittingEmptySubsequences: false).map { FileName(Array($0)) }
    }

    /// The last component; the root has none.
    public var lastName: FileName? {
        guard !bytes.isEmpty else { return nil }
        if let slash = bytes.lastIndex(of: 0x2F) { return FileName(Array(bytes[(slash + 1)...])) }
        return FileName(bytes)
    }

    public var parent: RelativePath {
        guard let slash = bytes.lastIndex(of: 0x2F) else { return .root }
        return RelativePath(Array(bytes[..<slash]))
    }

    /// Every component is a valid name: no `..`, `.`, empty part or leading `/`.
    /// Paths read from a sink are checked with this before anything is written.
    public var isSafe: Bool {
        // One pass over the bytes: this runs for every record read from a sink.
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x2F || b[i] == 0 {
                if i < b.count && b[i] == 0 { return false }
                let length = i - start
                if b.isEmpty { return true }
                if length == 0 { return false }
                if b[start] == 0x2E && (length == 1 || (length == 2 && b[start + 1] == 0x2E)) { return false }
                start = i + 1
            }
            return true
        }
    }

    /// Whether `self` is `other` or lies below it.
    /// Whether `parent` is this path's parent, without making that path (a
    /// writer asks it of every entry a push hands over).
    public func isChild(of parent: RelativePath) -> Bool {
        guard !isRoot else { return false }
        guard !parent.isRoot else { return !bytes.contains(0x2F) }
        return bytes.count > parent.bytes.count + 1 && bytes[parent.bytes.count] == 0x2F && bytes.starts(with: parent.bytes)
            && !bytes[(parent.bytes.count + 1)...].contains(0x2F)
    }

    public func isWithin(_ other: RelativePath) -> Bool {
        if other.isRoot || self == other { return true }
        return bytes.count > other.bytes.count && bytes[other.bytes.count] == 0x2F
            && bytes.starts(with: other.bytes)
    }

    public static func < (a: RelativePath, b: RelativePath) -> Bool {
        pathPrecedes(a.bytes, b.bytes)
    }

    public var description: String { Printable.path(bytes) }

    /// The path inside a message: in single quotes when it prints as is,
    /// else in git's double-quoted escaped form.
    public var quotedForMessage: String {
        let printed = Printable.path(bytes)
        return printed.hasPrefix("\"") ? printed : "'\(printed)'"
    }

    @inline(__always)
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try bytes.withCString(body)
    }
}

/// Path order: byte order in which `/` sorts before every other byte.
@inline(__always)
public func pathPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            let n = Swift.min(x.count, y.count)
            var i = 0
            while i < n {
                let p = x[i], q = y[i]
                if p != q {
                    if p == 0x2F { return true }
                    if q == 0x2F { return false }
                    return p < q
                }
                i += 1
            }
            return x.count < y.count
        }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with a NUL-terminated copy, on the stack when it is small.
    @inline(__always)
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            self.withUnsafeBufferPointer { source in
                if let base = source.baseAddress {
                    memcpy(buffer.baseAddress!, base, source.count)
                }
            }
            buffer[count] = 0
            return try body(UnsafePointer(buffer.baseAddress!))
        }
    }
}

/// Turns names and paths into text a terminal shows safely.
public enum Printable {
    /// Valid UTF-8 without control characters, `"` or `\` prints as is;
    /// anything else is quoted and escaped as git does (`"caf\303\n"`).
    public static func path(_ bytes: [UInt8]) -> String {
        let plain = !bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x22 || $0 == 0x5C }
        if plain, let text = String(validating: bytes, as: UTF8.self) { return text }
        return quoted(bytes)
    }

    /// git's quoting: C escapes for \a\b\t\n\v\f\r " \, octal for other
    /// control bytes and for every byte of non-UTF-8 or non-ASCII text.
    public static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0B: out += "\\v"
            case 0x0C: out += "\\f"
            case 0x0D: out += "\\r"
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out + "\""
    }
}
