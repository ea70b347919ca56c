/// Bytes that name files, carried in a `String` without loss.
///
/// The command line, settings files and the working directory hold paths as
/// bytes that need not be UTF-8, while argument parsing and messages want
/// `String`. As Python's `surrogateescape` does, each byte that is not part of
/// valid UTF-8 becomes one code point of a reserved range (here the last 128
/// code points of Unicode, U+10FF80...U+10FFFF, private use), and turning
/// the text back into bytes restores it. A name that really holds one of those
/// code points has its four bytes escaped one by one, so the mapping stays
/// exact both ways for every byte string.
extension String {
    static let escapeBase: UInt32 = 0x10FF00
    static let escapedRange: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    /// The text that carries `bytes`: UTF-8 as is, every other byte escaped.
    public init(fileSystemBytes bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            if let (scalar, length) = Self.decodeScalar(bytes, at: i), !Self.escapedRange.contains(scalar.value) {
                scalars.append(scalar)
                i += length
            } else if let (_, length) = Self.decodeScalar(bytes, at: i) {
                for byte in bytes[i..<i + length] { scalars.append(Self.escaped(byte)) }
                i += length
            } else {
                scalars.append(Self.escaped(bytes[i]))
                i += 1
            }
        }
        self = String(scalars)
    }

    /// The well-formed UTF-8 scalar at `i` and its length in bytes, or nil.
    static func decodeScalar(_ bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[i]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int, initial: UInt32, minimum: UInt32
        switch lead {
        case 0xC2...0xDF: (length, initial, minimum) = (2, UInt32(lead & 0x1F), 0x80)
        case 0xE0...0xEF: (length, initial, minimum) = (3, UInt32(lead & 0x0F), 0x800)
        case 0xF0...0xF4: (length, initial, minimum) = (4, UInt32(lead & 0x07), 0x10000)
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        var value = initial
        for byte in bytes[(i + 1)..<(i + length)] {
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        // Overlong forms and surrogates are not UTF-8; Unicode.Scalar refuses the rest.
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    /// The bytes this text stands for: escaped code points back to their
    /// bytes, everything else as UTF-8.
    public var fileSystemBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if Self.escapedRange.contains(scalar.value) {
                bytes.append(UInt8(scalar.value - Self.escapeBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// The text as a user reads it in a message: quoted and escaped as git
    /// does when it is not plain printable UTF-8.
    public var quotedForDisplay: String { Printable.path(fileSystemBytes) }

    static func escaped(_ byte: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(escapeBase + UInt32(byte))!
    }
}
