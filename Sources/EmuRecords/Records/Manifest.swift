import EmuPOSIX
import Glibc
import SystemPackage

/// What a snapshot recorded of one source entry: enough to decide, without
/// reading the file, whether it changed since (size, mtime, ctime, inode),
/// and to restore or verify it (type, mode, owner, hashes, targets).
///
/// A regular file records the SHA-256 of its bytes and, when it has any, the
/// digest of its xattrs and ACLs; together with mode, owner and mtime that
/// is the key under which identical files can share one inode.
public struct ManifestRecord: Sendable, Equatable {
    public var path: RelativePath
    public var kind: FileKind
    public var permissions: UInt32
    public var owner: UInt32
    public var group: UInt32
    public var size: Int64
    public var modified: FileTime
    /// The source's ctime and inode when the entry was read: change detection only.
    public var changed: FileTime
    public var inode: UInt64
    public var content: ContentHash?
    public var attributes: ContentHash?
    public var symlinkTarget: [UInt8]?
    public var device: DeviceNumber?
    /// For the second and later names of a file hardlinked in the source:
    /// the first name, in path order, of the same inode.
    public var hardlinkLeader: RelativePath?

    public init(path: RelativePath, status: FileStatus) {
        self.path = path
        kind = status.kind
        permissions = status.permissions
        owner = status.owner
        group = status.group
        size = Self.recordedSize(status)
        modified = status.modified
        changed = status.changed
        inode = status.inode
    }

    /// The size a record keeps: a file's or a symlink's; 0 for the rest,
    /// whose st_size says nothing about their content.
    package static func recordedSize(_ status: FileStatus) -> Int64 {
        status.kind == .regular || status.kind == .symlink ? status.size : 0
    }

    /// Whether the source entry described by `status` is, by its metadata, the
    /// one this record describes: same type, size, mtime, ctime and inode. A
    /// ctime that did not move says mode, owner, xattrs and ACLs did not either.
    public func isUnchanged(comparedTo status: FileStatus) -> Bool {
        kind == status.kind && size == ManifestRecord.recordedSize(status) && modified == status.modified
            && changed == status.changed && inode == status.inode
            && permissions == status.permissions && owner == status.owner && group == status.group
    }

    /// Whether two records hold the same bytes with the same inode metadata,
    /// so that one inode may stand for both.
    public func hasSameContentAndMetadata(as other: ManifestRecord) -> Bool {
        kind == other.kind && content == other.content && size == other.size
            && permissions == other.permissions && owner == other.owner && group == other.group
            && modified == other.modified && attributes == other.attributes
    }
}

/// The manifest file format, version 1: a header line, one line per entry
/// in path order, and an end line with the count (its absence marks a
/// manifest cut short by a killed push). Fields are tab-separated:
///
///     type mode uid gid size mtime ctime inode sha256 attrs extra path
///
/// type is one of `f d l p c b`; mode is octal; times are `seconds.nanos`;
/// sha256 and attrs are hex or `-`; extra is a symlink's target, a device's
/// `major,minor`, a hardlinked file's first name, or `-`. Names are bytes:
/// only `\`, control bytes, and a lone `-` are escaped (`\\`, `\t`, `\x1b`).
package enum ManifestFormat {
    package static let header = Array("emu-manifest 1\n".utf8)
    package static let endTag = Array("end".utf8)
    package static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, dash: UInt8 = 0x2D, backslash: UInt8 = 0x5C

    package static func letter(_ kind: FileKind) -> UInt8 {
        switch kind {
        case .regular: UInt8(ascii: "f")
        case .directory: UInt8(ascii: "d")
        case .symlink: UInt8(ascii: "l")
        case .fifo: UInt8(ascii: "p")
        case .characterDevice: UInt8(ascii: "c")
        case .blockDevice: UInt8(ascii: "b")
        case .socket: UInt8(ascii: "s")
        case .unknown: UInt8(ascii: "?")
        }
    }

    package static func kind(_ letter: UInt8) -> FileKind? {
        switch letter {
        case UInt8(ascii: "f"): .regular
        case UInt8(ascii: "d"): .directory
        case UInt8(ascii: "l"): .symlink
        case UInt8(ascii: "p"): .fifo
        case UInt8(ascii: "c"): .characterDevice
        case UInt8(ascii: "b"): .blockDevice
        default: nil
        }
    }

    package static func escape(_ bytes: [UInt8], into out: inout [UInt8]) {
        if bytes == [dash] {
            out += Array("\\x2d".utf8)
            return
        }
        // Most names need no escape: one scan, then one append.
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == backslash }) {
            out += bytes
            return
        }
        for b in bytes {
            switch b {
            case backslash: out += [backslash, backslash]
            case tab: out += [backslash, UInt8(ascii: "t")]
            case newline: out += [backslash, UInt8(ascii: "n")]
            case 0x0D: out += [backslash, UInt8(ascii: "r")]
            case 0..<0x20, 0x7F:
                out += [backslash, UInt8(ascii: "x")] + hexDigits([b])
            default: out.append(b)
            }
        }
    }

    package static func unescape(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard bytes.contains(backslash) else { return Array(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            guard b == backslash else { out.append(b); i += 1; continue }
            guard i + 1 < bytes.endIndex else { return nil }
            switch bytes[i + 1] {
            case backslash: out.append(backslash); i += 2
            case UInt8(ascii: "t"): out.append(tab); i += 2
            case UInt8(ascii: "n"): out.append(newline); i += 2
            case UInt8(ascii: "r"): out.append(0x0D); i += 2
            case UInt8(ascii: "x"):
                guard i + 3 < bytes.endIndex, let h = hexValue(bytes[i + 2]), let l = hexValue(bytes[i + 3]) else { return nil }
                out.append(h << 4 | l); i += 4
            default: return nil
            }
        }
        return out
    }

    /// Appends the decimal digits of a non-negative or negative integer
    /// without making a String: this runs seven times per record.
    @inlinable package static func appendDecimal<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude == 0 { out.append(UInt8(ascii: "0")); return }
        let start = out.count
        while magnitude > 0 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        out[start...].reverse()
    }

    package static func appendTime(_ time: FileTime, to out: inout [UInt8]) {
        appendDecimal(time.seconds, to: &out)
        out.append(UInt8(ascii: "."))
        var nanos = UInt32(max(0, time.nanoseconds))
        let start = out.count
        for _ in 0..<9 {
            out.append(UInt8(ascii: "0") + UInt8(nanos % 10))
            nanos /= 10
        }
        out[start...].reverse()
    }

    package static func encode(_ r: ManifestRecord, into out: inout [UInt8]) {
        out.append(letter(r.kind)); out.append(tab)
        out += Array(String(r.permissions, radix: 8).utf8); out.append(tab)
        appendDecimal(r.owner, to: &out); out.append(tab)
        appendDecimal(r.group, to: &out); out.append(tab)
        appendDecimal(r.size, to: &out); out.append(tab)
        appendTime(r.modified, to: &out); out.append(tab)
        appendTime(r.changed, to: &out); out.append(tab)
        appendDecimal(r.inode, to: &out); out.append(tab)
        if let content = r.content { content.appendHex(to: &out) } else { out.append(dash) }
        out.append(tab)
        if let attributes = r.attributes { attributes.appendHex(to: &out) } else { out.append(dash) }
        out.append(tab)
        if let target = r.symlinkTarget {
            escape(target, into: &out)
        } else if let device = r.device {
            out += Array("\(device.major),\(device.minor)".utf8)
        } else if let leader = r.hardlinkLeader {
            escape(leader.bytes, into: &out)
        } else {
            out.append(dash)
        }
        out.append(tab)
        escape(r.path.bytes, into: &out)
        out.append(newline)
    }

    /// Parses one line (without its newline); nil when it is malformed.
    package static func decode(_ line: ArraySlice<UInt8>) -> ManifestRecord? {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(12)
        var start = line.startIndex
        var i = line.startIndex
        while i < line.endIndex, fields.count < 11 {
            if line[i] == tab {
                fields.append(line[start..<i])
                start = i + 1
            }
            i += 1
        }
        fields.append(line[start..<line.endIndex])
        guard fields.count == 12, fields[0].count == 1, let kind = kind(fields[0].first!),
              let permissions = UInt32(octal: fields[1]), let owner = UInt32(decimal: fields[2]),
              let group = UInt32(decimal: fields[3]), let size = Int64(decimal: fields[4]),
              let modified = FileTime(exact: fields[5]), let changed = FileTime(exact: fields[6]),
              let inode = UInt64(decimal: fields[7]), let path = unescape(fields[11])
        else { return nil }
        var record = ManifestRecord(
            path: RelativePath(path), kind: kind, permissions: permissions, owner: owner, group: group,
            size: size, modified: modified, changed: changed, inode: inode)
        if fields[8] != [dash] {
            guard let hash = ContentHash(hex: fields[8]) else { return nil }
            record.content = hash
        }
        if fields[9] != [dash] {
            guard let hash = ContentHash(hex: fields[9]) else { return nil }
            record.attributes = hash
        }
        if fields[10] != [dash] {
            guard let extra = unescape(fields[10]) else { return nil }
            switch kind {
            case .symlink: record.symlinkTarget = extra
            case .characterDevice, .blockDevice:
                let parts = extra.split(separator: UInt8(ascii: ","))
                guard parts.count == 2, let major = UInt32(decimal: parts[0]), let minor = UInt32(decimal: parts[1]) else { return nil }
                record.device = DeviceNumber(major: major, minor: minor)
            case .regular: record.hardlinkLeader = RelativePath(extra)
            default: return nil
            }
        }
        return record
    }
}

extension ManifestRecord {
    package init(path: RelativePath, kind: FileKind, permissions: UInt32, owner: UInt32, group: UInt32,
         size: Int64, modified: FileTime, changed: FileTime, inode: UInt64) {
        self.path = path
        self.kind = kind
        self.permissions = permissions
        self.owner = owner
        self.group = group
        self.size = size
        self.modified = modified
        self.changed = changed
        self.inode = inode
    }
}

extension FileTime {
    package init?(exact text: ArraySlice<UInt8>) {
        guard let dot = text.firstIndex(of: UInt8(ascii: ".")),
              let seconds = Int64(decimal: text[..<dot]),
              text.endIndex - dot == 10,
              let nanos = Int32(decimal: text[(dot + 1)...])
        else { return nil }
        self.init(seconds: seconds, nanoseconds: nanos)
    }
}

extension FixedWidthInteger {
    /// Parses ASCII digits (a leading `-` for signed types) without a String.
    package init?(decimal text: ArraySlice<UInt8>) {
        var value: Self = 0
        var negative = false
        var digits = text[...]
        if Self.isSigned, digits.first == UInt8(ascii: "-") { negative = true; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        for c in digits {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Self(c - 0x30))
            guard !o1 && !o2 else { return nil }
            value = a
        }
        self = negative ? 0 - value : value
    }

    package init?(octal text: ArraySlice<UInt8>) {
        var value: Self = 0
        guard !text.isEmpty, text.count <= 8 else { return nil }
        for c in text {
            guard c >= 0x30 && c <= 0x37 else { return nil }
            value = value * 8 + Self(c - 0x30)
        }
        self = value
    }
}
