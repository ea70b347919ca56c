import Crypto
import EmuPOSIX

/// A SHA-256 content digest, kept as four words so that comparing and
/// hashing it costs no allocation.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    var words: (UInt64, UInt64, UInt64, UInt64)

    public init<D: Digest>(_ digest: D) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { bytes in
            withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(32))) }
        }
        words = w
    }

    /// Parses 64 lowercase hexadecimal digits, without allocating.
    public init?(hex: some Collection<UInt8>) {
        guard hex.count == 64 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &w) { out -> Bool in
            var i = hex.startIndex
            for n in 0..<32 {
                guard let high = hexValue(hex[i]) else { return false }
                i = hex.index(after: i)
                guard let low = hexValue(hex[i]) else { return false }
                i = hex.index(after: i)
                out[n] = high << 4 | low
            }
            return true
        }
        guard ok else { return nil }
        words = w
    }

    public static func == (a: ContentHash, b: ContentHash) -> Bool { a.words == b.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    public var hex: [UInt8] { hexDigits(bytes) }

    public var description: String { String(decoding: hex, as: UTF8.self) }

    /// The digest of no bytes at all.
    public static let empty = ContentHash(SHA256.hash(data: [UInt8]()))
}

/// A running SHA-256 over data as it streams past.
public struct ContentHasher {
    var state = SHA256()
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }
    public mutating func update(_ bytes: [UInt8]) { state.update(data: bytes) }
    public func finalize() -> ContentHash { ContentHash(state.finalize()) }
}

/// Reads `name` in `directory` once and returns its SHA-256 (holes read as
/// zeros), with the number of bytes read.
func hashFile(_ name: FileName, in directory: DirectoryHandle, copier: DataCopier) throws -> (ContentHash, Int64) {
    let input = try directory.openForReading(name)
    defer { input.closeIgnoringErrors() }
    var hasher = ContentHasher()
    let length = try copier.copy(from: input, to: nil, sourcePath: directory.childPath(name), destinationPath: []) { hasher.update($0) }
    return (hasher.finalize(), length)
}

/// The digest of an entry's extended attributes and ACLs: equal digests,
/// equal attributes. Recorded so that two files can be compared without
/// reading either's attributes again.
public func attributesDigest(_ attributes: [ExtendedAttribute]) -> ContentHash? {
    guard !attributes.isEmpty else { return nil }
    var hasher = ContentHasher()
    for attribute in attributes {
        hasher.update(attribute.name + [0])
        var length = UInt64(attribute.value.count).littleEndian
        withUnsafeBytes(of: &length) { hasher.update($0) }
        hasher.update(attribute.value)
    }
    return hasher.finalize()
}

@inline(__always)
func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
}

func hexDigits(_ bytes: [UInt8]) -> [UInt8] {
    let table = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(table[Int(b >> 4)])
        out.append(table[Int(b & 0xF)])
    }
    return out
}
