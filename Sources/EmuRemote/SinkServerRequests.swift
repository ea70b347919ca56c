import EmuPOSIX
import EmuCore
import EmuRecords

/// The requests `emu serve` answers, each with what the local sink says.
extension SinkServer {
    package func answer(_ request: Request) throws {
        guard let sink else { throw EmuError.usage("a request before the hello", fix: "run emu on both sides") }
        switch request {
        case .snapshots:
            for var snapshot in try sink.snapshots() {
                if !sink.hasManifest(snapshot) { snapshot.recordOrigin = .scannedTree }
                try writer.send(Frame(.data, text: Wire.listing(snapshot)))
            }
            try writer.send(Frame(.end))
        case .head:
            try writer.send(Frame(.reply, text: try sink.headID() ?? ""))
        case .records(let id):
            try streamRecords(of: try snapshot(id))
        case .resumeRecords:
            // What a cut push left (after recovery): an empty stream when nothing.
            if let leftovers = sink.resumeLeftovers() {
                try stream(IntactCopies(tree: leftovers.tree, records: leftovers.records))
            } else {
                try writer.send(Frame(.end))
            }
        case .file(let id, let path):
            try streamFile(path, of: try snapshot(id))
        case .export(let id, let scope):
            try answerExport(try snapshot(id), scope: scope)
        case .restore(let id, let path, let content):
            try answerRestore(id, path, content: content)
        case .uniqueBytes(let id):
            try writer.send(Frame(.reply, text: try sink.uniqueBytes(of: try snapshot(id)).map { String($0) } ?? ""))
        case .config:
            try writer.send(Frame(.reply, text: try sink.config().text))
        case .space:
            try writer.send(Frame(.reply, text: sink.space().map { "\($0.free) \($0.total)" } ?? ""))
        case .owner:
            try writer.send(Frame(.reply, text: try sink.owner()?.text ?? ""))
        case .lock(let exclusive, let wait):
            try refuse(request, unless: !exclusive || mode != .readOnly)
            try sink.lock(exclusive ? .exclusive : .shared, wait: wait)
            try writer.send(Frame(.reply))
        case .unlock:
            sink.unlock()
            try writer.send(Frame(.reply))
        case .verify(let id, let sample):
            try answerVerify(id, samplePercent: sample)
        case .pushEnd, .pushEndUnlessUnchanged:
            throw EmuError.failed("push-end without push-begin", fix: "run emu on both sides")
        default:
            try answerChange(request, sink)
        }
    }

    /// The requests that change the sink, as far as this key's mode allows,
    /// each under the exclusive lock the client took: two clients' changes never mix.
    package func answerChange(_ request: Request, _ sink: Sink) throws {
        let needs: ServeMode = switch request {
        // Adopting deletes nothing: an append-only key may take back its machine's history.
        case .recover, .adopt, .pushBegin: .appendOnly
        default: .full
        }
        try refuse(request, unless: mode == .full || mode == needs)
        if case .pushBegin(let begin) = request { return try answerPush(begin) }
        try requireExclusiveLock(request, sink)
        switch request {
        case .recover:
            try sink.recover(finishingDeletions: mode == .full)
        case .delete(let id):
            try sink.delete(try snapshot(id))
        case .freeSpace(let percent, let needed, let minKeep, let protecting, let among):
            return try answerFreeSpace(percent: percent, needed: needed, minKeep: minKeep, protecting: protecting, among: among, sink)
        case .finishDeleting:
            try sink.finishDeleting()
        case .clean(let repair, let dryRun):
            try sink.clean(repair: repair, dryRun: dryRun) {
                try? writer.send(Frame(.data, text: "\($0.kind.rawValue)\t\($0.what)"))
            }
            return try writer.send(Frame(.end))
        case .writeConfig(let text):
            // Retention decides what is deleted: an append-only key may not set it.
            try sink.writeConfig(try checkedSinkConfig(text))
        case .adopt(let identity):
            try sink.adopt(for: identity)
        default:
            throw EmuError.usage("`\(request.verb)` is not a request that changes a sink", fix: "install the same version of emu on both machines")
        }
        try writer.send(Frame(.reply))
    }

    /// `free-space`: the oldest of those snapshots go until the disk has
    /// room (see `Sink.freeSpace`).
    package func answerFreeSpace(percent: Double, needed: Int64, minKeep: Int, protecting: String?, among ids: [String], _ sink: Sink) throws {
        var policy = RetentionPolicy()
        policy.minKeep = minKeep
        let among = try sink.snapshots().filter { ids.contains($0.id) }
        _ = try sink.freeSpace(percent: percent, bytes: needed, policy: policy, among: among, protecting: protecting,
                               warn: { try? writer.send(Frame(.data, text: "warn\t\($0.replacingTabsAndNewlines())")) },
                               each: { try? writer.send(Frame(.data, text: "removed\t\($0.id)\t\($1.joined(separator: "; "))")) })
        try writer.send(Frame(.end))
    }

    package func requireExclusiveLock(_ request: Request, _ sink: Sink) throws {
        guard sink.lock?.mode == .exclusive else {
            throw EmuError.failed("\(request.action) changes the sink and needs its exclusive lock, which this client did not take",
                                  fix: "install the same version of emu on both machines")
        }
    }

    package func snapshot(_ id: String) throws -> Snapshot {
        guard let snapshot = try sink?.snapshots().first(where: { $0.id == id }) else {
            throw EmuError.usage("the sink holds no snapshot \(id)", fix: "list its snapshots with `emu log`")
        }
        return snapshot
    }

    /// The bytes of one regular file of a snapshot, in pieces, closed by
    /// `end`; its path is resolved as every path read from a sink is (no
    /// symlink followed, no `..`).
    package func streamFile(_ path: RelativePath, of snapshot: Snapshot) throws {
        let (directory, name) = try sink!.openTree(snapshot).parentAndName(of: path)
        let input = try Self.openRegular(name, in: directory, path: path, snapshotID: snapshot.id)
        defer { input.close() }
        try sendBytes(of: input)
    }

    /// A snapshot, or its part at and below `scope`, as a tar archive in
    /// pieces, closed by `end`; then what it holds, as a reply: `ENTRIES BYTES`.
    package func answerExport(_ snapshot: Snapshot, scope: RelativePath) throws {
        guard scope.isRoot || scope.isSafe else {
            throw EmuError.usage("\(scope.quotedForMessage) is no path inside a snapshot", fix: "name a path the snapshot holds")
        }
        let counts = try exportTar(snapshot, from: sink!, scope: scope) { bytes in
            for start in stride(from: 0, to: bytes.count, by: Wire.pieceSize) {
                try self.writer.send(Frame(.data, Array(bytes[start..<min(start + Wire.pieceSize, bytes.count)])))
            }
        }
        try writer.send(Frame(.end))
        try writer.send(Frame(.reply, text: "\(counts.entries) \(counts.bytes)"))
    }

    /// A snapshot's regular file, opened to send; a usage error for anything else.
    package static func openRegular(_ name: FileName, in directory: DirectoryHandle, path: RelativePath, snapshotID: String) throws -> OpenFile {
        guard try directory.status(name).kind == .regular else {
            throw EmuError.usage("\(path.quotedForMessage) is not a regular file in snapshot \(Snapshot.shortForm(snapshotID))", fix: "name a file")
        }
        return try directory.openForReading(name)
    }

    /// A file's bytes from its start, in pieces, closed by `end`.
    package func sendBytes(of input: OpenFile) throws {
        let piece = UnsafeMutableRawBufferPointer(rebasing: copier.buffer[..<Wire.pieceSize])
        while true {
            let n = try input.readFully(into: piece, at: nil)
            if n > 0 { try writer.send(data: UnsafeRawBufferPointer(rebasing: piece[..<n])) }
            if n < piece.count { break }
        }
        try writer.send(Frame(.end))
    }

    /// A snapshot's records as manifest text (a scanned emu 0.2.5 tree's
    /// too), in pieces, closed by `end`.
    /// A snapshot's manifest as the sink holds it, byte for byte, so that
    /// the client reads the records the server reads, in the same order (a
    /// push names unchanged files by their place there); its records, scanned
    /// from the tree, when it has none.
    package func streamRecords(of snapshot: Snapshot) throws {
        guard let sink else { return }
        guard sink.hasManifest(snapshot) else { return try stream(try sink.openRecords(snapshot)) }
        let manifest = try sink.openManifestText(snapshot)
        defer { manifest.close() }
        let piece = UnsafeMutableRawBufferPointer(rebasing: copier.buffer[..<Wire.pieceSize])
        while true {
            let count = try manifest.readFully(into: piece)
            if count > 0 { try writer.send(data: UnsafeRawBufferPointer(rebasing: piece[..<count])) }
            if count < piece.count { break }
        }
        try writer.send(Frame(.end))
    }

    /// Records as manifest text, in pieces, closed by `end`.
    package func stream(_ reader: RecordReader) throws {
        try encodeRecords(reader) { try writer.send(Frame(.data, $0)) }
        try writer.send(Frame(.end))
    }
}

extension SinkServer {
    /// The sink's config as a client wants it: only its settings (retention
    /// and the like) may change, each checked; what emu keeps there for
    /// itself (`[Snapshots]`) stays the server's.
    package func checkedSinkConfig(_ text: [UInt8]) throws -> INIDocument {
        guard let sink else { throw EmuError.usage("no sink is open", fix: "run emu on both sides") }
        let wanted = try INIDocument(parsing: String(decoding: text, as: UTF8.self))
        var result = try sink.config()
        let settings = Setting.all.filter { $0.scope == .sink }
        for section in wanted.sections {
            for entry in section.entries where !settings.contains(where: { $0.sectionInFile.lowercased() == section.name.lowercased()
                                                                          && $0.name.lowercased() == entry.key.lowercased() }) {
                guard result[section.name, entry.key] == entry.value else {
                    throw EmuError.usage("`\(section.name).\(entry.key)` is no setting a client may change", fix: "change it on the server")
                }
            }
        }
        for setting in settings {
            let value = wanted[setting.sectionInFile, setting.name]
            if let value { try setting.validate(value, sinkNames: []) }
            result[setting.sectionInFile, setting.name] = value
        }
        return result
    }
}

