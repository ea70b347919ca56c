import EmuPOSIX
import EmuRecords

/// What `export` wrote.
public struct ExportCounts: Sendable {
    public var entries = 0
    /// Bytes of file data archived (holes not counted).
    public var bytes: Int64 = 0

    package init(entries: Int = 0, bytes: Int64 = 0) { (self.entries, self.bytes) = (entries, bytes) }
}

/// Writes a snapshot, or the part of it at and below `scope`, to `output`
/// as a pax tar archive: names and metadata from its manifest, bytes, xattrs
/// and ACLs from its tree, so `tar` alone restores it. Paths are relative to
/// the snapshot's root; a hardlink inside the snapshot is a link entry to
/// the first name exported; holes stay holes (GNU sparse format 1.0).
/// The archive's bytes go to `output`, a megabyte at a time. Runs where the
/// sink is: over ssh, on the server (see `RemoteSink.export`).
package func exportTar(_ snapshot: Snapshot, from sink: Sink, scope: RelativePath, to output: @escaping ([UInt8]) throws -> Void) throws -> ExportCounts {
    let tree = try sink.openTree(snapshot)
    if !scope.isRoot {
        do { _ = try tree.status(path: scope) } catch let error as FileSystemError where error.isMissing {
            throw EmuError.usage("snapshot \(snapshot.name) holds nothing at \(Printable.path(scope.bytes))",
                                 fix: "name a path the snapshot holds")
        }
    }
    let exporter = TarExporter(tree: tree, scope: scope, writer: TarWriter(output: output))
    let records = try sink.openRecords(snapshot)
    while let record = try records.next() {
        guard !record.path.isRoot, record.path.isWithin(scope) else { continue }
        try exporter.add(record)
    }
    try exporter.writer.finish()
    return exporter.counts
}

/// Turns records into archive entries, reading the tree for what records do not hold.
package final class TarExporter {
    package let tree: DirectoryHandle
    package let writer: TarWriter
    package let copier = DataCopier()
    package var counts = ExportCounts()
    package let scope: RelativePath
    /// A hardlinked file's first name in the snapshot, outside the scope,
    /// and the name it was archived under.
    package var linkNames: [RelativePath: RelativePath] = [:]
    private var parent: (path: RelativePath, handle: DirectoryHandle)?

    package init(tree: DirectoryHandle, scope: RelativePath, writer: TarWriter) {
        self.tree = tree
        self.scope = scope
        self.writer = writer
    }

    package func add(_ record: ManifestRecord) throws {
        counts.entries += 1
        let directory = try parentDirectory(of: record.path)
        let name = record.path.lastName!
        var header = TarWriter.Header(name: record.path.bytes, type: .regular, permissions: record.permissions,
                                      owner: record.owner, group: record.group, modified: record.modified)
        switch record.kind {
        case .regular:
            if let leader = record.hardlinkLeader, let archived = leader.isWithin(scope) ? leader : linkNames[leader] {
                header.type = .hardlink
                header.linkTarget = archived.bytes
                return try writer.write(header)
            }
            // The first name exported stands for a first name the scope leaves out.
            if let leader = record.hardlinkLeader { linkNames[leader] = record.path }
            try addFile(record, name: name, in: directory, header: header)
        case .directory:
            header.name.append(0x2F)
            header.type = .directory
            if record.attributes != nil {
                // The handle is O_PATH: its xattrs are read by name, its ACLs through /proc.
                let handle = try directory.openDirectory(name)
                header.records = try attributeRecords(.entry(directory, name), acls: handle.file, isDirectory: true)
            }
            try writer.write(header)
        case .symlink:
            header.type = .symlink
            header.linkTarget = try record.symlinkTarget ?? directory.readSymlink(name)
            try writer.write(header)
        case .fifo, .characterDevice, .blockDevice:
            header.type = record.kind == .fifo ? .fifo : record.kind == .characterDevice ? .character : .block
            header.device = record.device ?? DeviceNumber(major: 0, minor: 0)
            if record.attributes != nil {
                header.records = try ExtendedAttributes.read(.entry(directory, name)).filter { !$0.isACL }.map(Self.xattrRecord)
            }
            try writer.write(header)
        case .socket, .unknown:
            counts.entries -= 1
        }
    }

    /// A regular file's header and bytes; one with holes in GNU's sparse form.
    package func addFile(_ record: ManifestRecord, name: FileName, in directory: DirectoryHandle, header: TarWriter.Header) throws {
        var header = header
        let input = try directory.openForReading(name)
        defer { input.close() }
        let status = try input.status()
        if record.attributes != nil { header.records = try attributeRecords(.file(input), acls: input, isDirectory: false) }
        let ranges: [(offset: Int64, length: Int64)] = Int64(status.blocks) * 512 < status.size
            ? try copier.dataRanges(of: input, size: status.size) : [(Int64(0), status.size)]
        var map: [UInt8] = []
        if ranges.count != 1 || ranges.first?.length != status.size {
            (header, map) = Self.sparse(header, ranges: ranges, size: status.size)
        }
        header.size = Int64(map.count) + ranges.reduce(0) { $0 + $1.length }
        try writer.write(header)
        try writer.writeData(map)
        for range in ranges { try copyRange(input, range) }
        try writer.pad(header.size)
        counts.bytes += header.size - Int64(map.count)
    }

    /// `header` as GNU sparse 1.0 names it, and the map that starts its data.
    package static func sparse(_ header: TarWriter.Header, ranges: [(offset: Int64, length: Int64)],
                       size: Int64) -> (TarWriter.Header, [UInt8]) {
        var header = header
        let path = RelativePath(header.name)
        header.records += [("GNU.sparse.major", Array("1".utf8)), ("GNU.sparse.minor", Array("0".utf8)),
                           ("GNU.sparse.name", header.name), ("GNU.sparse.realsize", Array(String(size).utf8))]
        let prefix = path.parent.isRoot ? [] : path.parent.bytes + [0x2F]
        header.name = prefix + Array("GNUSparseFile.0/".utf8) + path.lastName!.bytes
        // A file that ends in a hole says so with an empty last range.
        var entries = ranges
        if (ranges.last.map { $0.offset + $0.length } ?? 0) < size { entries.append((size, 0)) }
        var text = "\(entries.count)\n" + entries.map { "\($0.offset)\n\($0.length)\n" }.joined()
        text += String(repeating: "\u{0}", count: (TarWriter.block - text.utf8.count % TarWriter.block) % TarWriter.block)
        return (header, Array(text.utf8))
    }

    package func copyRange(_ input: OpenFile, _ range: (offset: Int64, length: Int64)) throws {
        var offset = range.offset
        let end = range.offset + range.length
        while offset < end {
            let want = Int(min(Int64(copier.buffer.count), end - offset))
            let n = try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: copier.buffer[..<want]), at: offset)
            guard n > 0 else {
                throw EmuError.failed("\(Printable.path(input.path)) in the sink is shorter than when it was opened",
                                      fix: "run `emu verify` on the snapshot; export another one meanwhile")
            }
            try writer.writeData(UnsafeRawBufferPointer(rebasing: copier.buffer[..<n]))
            offset += Int64(n)
        }
    }

    /// xattrs as SCHILY.xattr records, ACLs as SCHILY.acl ones (GNU tar's
    /// and bsdtar's keys).
    package func attributeRecords(_ target: AttributeTarget, acls file: OpenFile, isDirectory: Bool) throws -> [(key: String, value: [UInt8])] {
        var records: [(key: String, value: [UInt8])] = []
        for attribute in try ExtendedAttributes.read(target) {
            if attribute.name == ExtendedAttribute.accessACL {
                records.append(("SCHILY.acl.access", Array(try AccessControlList.archiveText(file, isDefault: false).utf8)))
            } else if attribute.name == ExtendedAttribute.defaultACL {
                if isDirectory {
                    records.append(("SCHILY.acl.default", Array(try AccessControlList.archiveText(file, isDefault: true).utf8)))
                }
            } else {
                records.append(Self.xattrRecord(attribute))
            }
        }
        return records
    }

    package static func xattrRecord(_ attribute: ExtendedAttribute) -> (key: String, value: [UInt8]) {
        ("SCHILY.xattr." + String(decoding: attribute.name, as: UTF8.self), attribute.value)
    }

    package func parentDirectory(of path: RelativePath) throws -> DirectoryHandle {
        let wanted = path.parent
        if let parent, parent.path == wanted { return parent.handle }
        let handle = wanted.isRoot ? tree : try tree.openDirectory(path: wanted)
        parent = (wanted, handle)
        return handle
    }
}
