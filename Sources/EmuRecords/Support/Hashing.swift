import Crypto
import EmuPOSIX

/// A SHA-256 content digest, kept as four words so that comparing and
/// hashing it costs no allocation.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    package var words: (UInt64, UInt64, UInt64, UInt64)

    public init<D: Digest>(_ digest: D) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { bytes in
            withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(32))) }
        }
        words = w
    }

    /// Parses 64 lowercase hexadecimal digits, without allocating.
    public init?(hex: ArraySlice<UInt8>) {
        guard hex.count == 64 else { return nil }
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &w) { out in
            hex.withUnsafeBufferPointer { digits in
                for n in 0..<32 {
                    guard let high = hexValue(digits[2 * n]), let low = hexValue(digits[2 * n + 1]) else { return false }
                    out[n] = high << 4 | low
                }
                return true
            }
        }
        guard ok else { return nil }
        words = w
    }

    public init?(hex: [UInt8]) { self.init(hex: hex[...]) }

    public static func == (a: ContentHash, b: ContentHash) -> Bool { a.words == b.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    public var hex: [UInt8] {
        var out: [UInt8] = []
        appendHex(to: &out)
        return out
    }

    /// Appends the 64 hexadecimal digits, without a temporary array.
    public func appendHex(to out: inout [UInt8]) {
        withUnsafeBytes(of: words) { bytes in
            for b in bytes {
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0x0F))
            }
        }
    }

    public var description: String { String(decoding: hex, as: UTF8.self) }

    /// The digest of no bytes at all.
    public static let empty = ContentHash(SHA256.hash(data: [UInt8]()))
}

/// A running SHA-256 over data as it streams past.
public struct ContentHasher {
    package var state = SHA256()
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }
    public mutating func update(_ bytes: [UInt8]) { state.update(data: bytes) }
    public func finalize() -> ContentHash { ContentHash(state.finalize()) }
}

/// Reads `name` in `directory` once and returns its SHA-256 (holes read as
/// zeros), with the number of bytes read.
package func hashFile(_ name: FileName, in directory: DirectoryHandle, copier: DataCopier) throws -> (ContentHash, Int64) {
    let input = try directory.openForReading(name)
    defer { input.close() }
    var hasher = ContentHasher()
    let length = try copier.copy(from: input, to: nil) { hasher.update($0) }
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
package func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
}

package func hexDigits(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(hexDigit(b >> 4))
        out.append(hexDigit(b & 0xF))
    }
    return out
}

@inline(__always)
package func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? 0x30 + value : 0x61 + value - 10
}

extension ContentHash: Comparable {
    /// An order that means nothing but groups equal hashes.
    public static func < (a: ContentHash, b: ContentHash) -> Bool { a.words < b.words }

    /// Which of `parts` (a power of two) equal parts of the hash space holds this.
    package func part(of parts: Int) -> Int { Int(truncatingIfNeeded: words.0) & (parts - 1) }
}
