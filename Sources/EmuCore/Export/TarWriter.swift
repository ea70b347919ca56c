import EmuPOSIX
import EmuRecords

/// Writes a POSIX pax archive (IEEE 1003.1-2008 `pax` interchange format):
/// a ustar header per entry, after an extended header whenever ustar cannot
/// hold what the entry needs (long or non-UTF-8 names, nanosecond mtimes,
/// large numbers, xattrs and ACLs in the SCHILY keys GNU tar and bsdtar
/// read, GNU's sparse format 1.0). Output is buffered and written in
/// large blocks.
package final class TarWriter {
    package enum TypeFlag: UInt8 {
        case regular = 0x30, hardlink = 0x31, symlink = 0x32, character = 0x33, block = 0x34, directory = 0x35, fifo = 0x36
        case extended = 0x78
    }

    package struct Header {
        package var name: [UInt8]
        package var type: TypeFlag
        package var permissions: UInt32 = 0o644
        package var owner: UInt32 = 0
        package var group: UInt32 = 0
        /// The bytes of data that follow the header.
        package var size: Int64 = 0
        package var modified = FileTime(seconds: 0, nanoseconds: 0)
        package var linkTarget: [UInt8] = []
        package var device = DeviceNumber(major: 0, minor: 0)
        /// Extended records beyond those the fields need (xattrs, ACLs, sparse).
        package var records: [(key: String, value: [UInt8])] = []
    }

    package static let block = 512
    /// Where the archive's bytes go, a megabyte at a time: a file, or a server's stream.
    package let output: ([UInt8]) throws -> Void
    private var buffer: [UInt8] = []

    package init(output: @escaping ([UInt8]) throws -> Void) {
        self.output = output
        buffer.reserveCapacity(1 << 20)
    }

    /// The entry's header, after an extended header when it needs one.
    package func write(_ header: Header) throws {
        var header = header
        let records = Self.extendedRecords(for: &header)
        if !records.isEmpty {
            let body = records.flatMap { Self.record($0.key, $0.value) }
            let name = Array("PaxHeaders/".utf8) + Array(header.name.suffix(80))
            append(Self.ustar(Header(name: name, type: .extended, size: Int64(body.count), modified: header.modified)))
            try writeData(body)
            try pad(Int64(body.count))
        }
        append(Self.ustar(header))
        try flushIfFull()
    }

    package func writeData(_ bytes: some Collection<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        try flushIfFull()
    }

    package func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        try flushIfFull()
    }

    /// Zeros after `size` bytes of data, to the end of the block.
    package func pad(_ size: Int64) throws {
        let rest = Int(size % Int64(Self.block))
        if rest != 0 { buffer.append(contentsOf: repeatElement(0, count: Self.block - rest)) }
        try flushIfFull()
    }

    /// The end-of-archive marker (two zero blocks), and every byte out.
    package func finish() throws {
        buffer.append(contentsOf: repeatElement(0, count: 2 * Self.block))
        try flush()
    }

    private func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    private func flushIfFull() throws {
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try output(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Headers

    /// The extended records `header` needs, its ustar fields emptied where a record stands for them.
    package static func extendedRecords(for header: inout Header) -> [(key: String, value: [UInt8])] {
        var records: [(key: String, value: [UInt8])] = []
        let isText = String(validating: header.name, as: UTF8.self) != nil
            && String(validating: header.linkTarget, as: UTF8.self) != nil
        if !isText { records.append(("hdrcharset", Array("BINARY".utf8))) }
        if header.name.count > 100 || !isText || !header.name.allSatisfy({ $0 < 0x80 }) {
            records.append(("path", header.name))
            header.name = Array(header.name.prefix(100))
        }
        if header.linkTarget.count > 100 || !header.linkTarget.allSatisfy({ $0 < 0x80 }) {
            records.append(("linkpath", header.linkTarget))
            header.linkTarget = Array(header.linkTarget.prefix(100))
        }
        if header.modified.nanoseconds != 0 || header.modified.seconds < 0 || header.modified.seconds > 0o77777777777 {
            records.append(("mtime", Array(header.modified.paxText.utf8)))
        }
        for (key, value, limit) in [("uid", Int64(header.owner), Int64(0o7777777)), ("gid", Int64(header.group), 0o7777777),
                                    ("size", header.size, 0o77777777777)] where value > limit {
            records.append((key, Array(String(value).utf8)))
        }
        return records + header.records
    }

    /// One `LENGTH KEY=VALUE\n` record, LENGTH counting itself.
    package static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let rest = key.utf8.count + value.count + 3
        var length = rest + String(rest).count
        if String(length).count != String(rest).count { length = rest + String(length).count }
        return Array("\(length) \(key)=".utf8) + value + [0x0A]
    }

    /// The 512-byte ustar header; numbers too large for a field are 0 there
    /// (the extended header holds them).
    package static func ustar(_ header: Header) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: Self.block)
        func put(_ bytes: some Collection<UInt8>, at offset: Int, width: Int) {
            for (i, byte) in bytes.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let text = String(value, radix: 8)
            let digits = text.count <= width - 1 ? text : "0"
            put(Array(String(repeating: "0", count: width - 1 - digits.count).utf8) + Array(digits.utf8), at: offset, width: width - 1)
        }
        put(header.name, at: 0, width: 100)
        octal(Int64(header.permissions & 0o7777), at: 100, width: 8)
        octal(Int64(header.owner), at: 108, width: 8)
        octal(Int64(header.group), at: 116, width: 8)
        octal(header.size, at: 124, width: 12)
        octal(max(0, header.modified.seconds), at: 136, width: 12)
        put(Array("        ".utf8), at: 148, width: 8)
        block[156] = header.type.rawValue
        put(header.linkTarget, at: 157, width: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        if header.type == .character || header.type == .block {
            octal(Int64(header.device.major), at: 329, width: 8)
            octal(Int64(header.device.minor), at: 337, width: 8)
        }
        let checksum = block.reduce(0) { $0 + Int($1) }
        put(Array(String(checksum, radix: 8).leftPadded(6, with: "0").utf8) + [0, 0x20], at: 148, width: 8)
        return block
    }
}

extension FileTime {
    /// SECONDS.NANOSECONDS, as a pax `mtime` record holds it.
    package var paxText: String {
        guard seconds < 0 && nanoseconds > 0 else { return "\(seconds).\(String(nanoseconds).leftPadded(9, with: "0"))" }
        // Before 1970 the fraction counts back from the whole second: -4.25 is (-5, 750000000).
        return "-\(-seconds - 1).\(String(1_000_000_000 - Int(nanoseconds)).leftPadded(9, with: "0"))"
    }
}
