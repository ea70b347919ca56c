import EmuPOSIX

/// The requests `emu serve` answers, each with what the local sink says.
extension SinkServer {
    func answer(_ words: [String], _ frame: Frame) throws {
        guard let sink, let command = words.first else { throw EmuError.usage("an empty request", fix: "run emu on both sides") }
        let argument = words.count > 1 ? words[1] : ""
        switch command {
        case "snapshots":
            for snapshot in try sink.snapshots() { try writer.send(Frame(.data, text: Wire.listing(snapshot))) }
            try writer.send(Frame(.end))
        case "head":
            try writer.send(Frame(.reply, text: try sink.headID() ?? ""))
        case "records":
            try streamRecords(of: try snapshot(argument))
        case "resume-records":
            // What a cut push left (after recovery): an empty stream when nothing.
            if let base = sink.earlierTrees(head: nil, resumes: true).first {
                try stream(IntactCopies(base))
            } else {
                try writer.send(Frame(.end))
            }
        case "file":
            try streamFile(RelativePath(RemoteSink.bytes(hex: words.count > 2 ? words[2] : "")), of: try snapshot(argument))
        case "restore":
            try answerRestore(words)
        case "unique-bytes":
            try writer.send(Frame(.reply, text: try sink.uniqueBytes(of: try snapshot(argument)).map { String($0) } ?? ""))
        case "config":
            try writer.send(Frame(.reply, text: try sink.config().text))
        case "space":
            try writer.send(Frame(.reply, text: sink.space().map { "\($0.free) \($0.total)" } ?? ""))
        case "owner":
            try writer.send(Frame(.reply, text: try sink.owner()?.text ?? ""))
        case "lock":
            let exclusive = argument == "exclusive"
            try refuse(words, unless: !exclusive || mode != .readOnly)
            try sink.lock(exclusive ? .exclusive : .shared, wait: Double(words.count > 2 ? words[2] : "") ?? 0)
            try writer.send(Frame(.reply))
        case "unlock":
            sink.unlock()
            try writer.send(Frame(.reply))
        default:
            try answerChange(command, words, argument, sink)
        }
    }

    /// The requests that change the sink, as far as this key's mode allows,
    /// each under the exclusive lock the client took: two clients' changes never mix.
    func answerChange(_ command: String, _ words: [String], _ argument: String, _ sink: Sink) throws {
        switch command {
        case "recover":
            try refuse(words, unless: mode != .readOnly)
            try requireExclusiveLock(words, sink)
            try sink.recover(finishingDeletions: mode == .full)
        case "delete":
            try refuse(words, unless: mode == .full)
            try requireExclusiveLock(words, sink)
            try sink.delete(try snapshot(argument))
        case "free-space":
            try refuse(words, unless: mode == .full)
            try requireExclusiveLock(words, sink)
            return try answerFreeSpace(words, sink)
        case "finish-deleting":
            try refuse(words, unless: mode == .full)
            try requireExclusiveLock(words, sink)
            try sink.finishDeleting()
        case "clean":
            try refuse(words, unless: mode == .full)
            try requireExclusiveLock(words, sink)
            try sink.clean(repair: argument == "repair", dryRun: words.count > 2 && words[2] == "dry-run") {
                try? writer.send(Frame(.data, text: "\($0.kind.rawValue)\t\($0.what)"))
            }
            return try writer.send(Frame(.end))
        case "write-config":
            // Retention decides what is deleted: an append-only key may not set it.
            try refuse(words, unless: mode == .full)
            try requireExclusiveLock(words, sink)
            try sink.writeConfig(try checkedSinkConfig(RemoteSink.bytes(hex: argument)))
        case "adopt":
            // Adopting deletes nothing: an append-only key may take back its machine's history.
            try refuse(words, unless: mode != .readOnly)
            try requireExclusiveLock(words, sink)
            try sink.adopt(for: argument)
        case "push-begin":
            try refuse(words, unless: mode != .readOnly)
            return try answerPush(words)
        case "verify":
            guard words.count >= 2 else { throw EmuError.usage("verify names a snapshot, or sink", fix: "run emu on both sides") }
            return try answerVerify(words)
        default:
            throw EmuError.usage("this server does not know the request `\(command)`", fix: "install the same version of emu on both machines")
        }
        try writer.send(Frame(.reply))
    }

    /// `free-space PERCENT NEEDED MIN-KEEP PROTECTED|- IDS|-`: the oldest of
    /// those snapshots go until the disk has room (see `Sink.freeSpace`).
    func answerFreeSpace(_ words: [String], _ sink: Sink) throws {
        guard words.count == 6, let percent = Double(words[1]), let needed = Int64(words[2]), let minKeep = Int(words[3]) else {
            throw EmuError.usage("free-space takes a percentage, bytes, a count, a snapshot and snapshots", fix: "run emu on both sides")
        }
        var policy = RetentionPolicy()
        policy.minKeep = minKeep
        let ids = Set(words[5].split(separator: ",").map(String.init))
        let among = try sink.snapshots().filter { ids.contains($0.id) }
        _ = try sink.freeSpace(percent: percent, bytes: needed, policy: policy, among: among, protecting: words[4] == "-" ? nil : words[4],
                               warn: { try? writer.send(Frame(.data, text: "warn\t\($0.replacingTabsAndNewlines())")) },
                               each: { try? writer.send(Frame(.data, text: "removed\t\($0.id)\t\($1.joined(separator: "; "))")) })
        try writer.send(Frame(.end))
    }

    func requireExclusiveLock(_ words: [String], _ sink: Sink) throws {
        guard sink.lock?.mode == .exclusive else {
            throw EmuError.failed("`\(words[0])` changes the sink and needs its exclusive lock (request `lock exclusive` first)",
                                  fix: "install the same version of emu on both machines")
        }
    }

    func snapshot(_ id: String) throws -> Snapshot {
        guard let snapshot = try sink?.snapshots().first(where: { $0.id == id }) else {
            throw EmuError.usage("the sink holds no snapshot \(id)", fix: "list its snapshots with `emu log`")
        }
        return snapshot
    }

    /// The bytes of one regular file of a snapshot, in pieces, closed by
    /// `end`; its path is resolved as every path read from a sink is (no
    /// symlink followed, no `..`).
    func streamFile(_ path: RelativePath, of snapshot: Snapshot) throws {
        let (directory, name) = try sink!.openTree(snapshot).parentAndName(of: path)
        let input = try Self.openRegular(name, in: directory, path: path, snapshotID: snapshot.id)
        defer { input.close() }
        try sendBytes(of: input)
    }

    /// A snapshot's regular file, opened to send; a usage error for anything else.
    static func openRegular(_ name: FileName, in directory: DirectoryHandle, path: RelativePath, snapshotID: String) throws -> OpenFile {
        guard try directory.status(name).kind == .regular else {
            throw EmuError.usage("\(path.quotedForMessage) is not a regular file in snapshot \(snapshotID.prefix(8))", fix: "name a file")
        }
        return try directory.openForReading(name)
    }

    /// A file's bytes from its start, in pieces, closed by `end`.
    func sendBytes(of input: OpenFile) throws {
        var piece = [UInt8](repeating: 0, count: Wire.pieceSize)
        while true {
            let n = try piece.withUnsafeMutableBytes { try input.readFully(into: $0, at: nil) }
            if n > 0 { try writer.send(Frame(.data, Array(piece[..<n]))) }
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
    func streamRecords(of snapshot: Snapshot) throws {
        guard let sink else { return }
        guard sink.hasManifest(snapshot) else { return try stream(try sink.openRecords(snapshot)) }
        let manifest = try sink.openManifestText(snapshot)
        defer { manifest.close() }
        var piece = [UInt8](repeating: 0, count: Wire.pieceSize)
        while true {
            let count = try piece.withUnsafeMutableBytes { try manifest.readFully(into: $0) }
            if count > 0 { try writer.send(Frame(.data, Array(piece[..<count]))) }
            if count < piece.count { break }
        }
        try writer.send(Frame(.end))
    }

    /// Records as manifest text, in pieces, closed by `end`.
    func stream(_ reader: RecordReader) throws {
        try encodeRecords(reader) { try writer.send(Frame(.data, $0)) }
        try writer.send(Frame(.end))
    }
}

/// Records as a manifest's text, in pieces of about `Wire.pieceSize`.
func encodeRecords(_ reader: RecordReader, piece each: ([UInt8]) throws -> Void) throws {
    var piece = ManifestFormat.header
    var count = 0
    while let record = try reader.next() {
        ManifestFormat.encode(record, into: &piece)
        count += 1
        if piece.count >= Wire.pieceSize {
            try each(piece)
            piece.removeAll(keepingCapacity: true)
        }
    }
    piece += ManifestFormat.endTag + [ManifestFormat.tab]
    ManifestFormat.appendDecimal(count, to: &piece)
    piece.append(ManifestFormat.newline)
    try each(piece)
}

extension Sink {
    /// The digest of a snapshot's records as `records` streams them.
    func recordsDigest(of snapshot: Snapshot) throws -> ContentHash {
        if hasManifest(snapshot) {
            let text = try openManifestText(snapshot)
            defer { text.close() }
            var hasher = ContentHasher()
            var piece = [UInt8](repeating: 0, count: Wire.pieceSize)
            while true {
                let count = try piece.withUnsafeMutableBytes { try text.readFully(into: $0) }
                piece.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
                if count < piece.count { return hasher.finalize() }
            }
        }
        var hasher = ContentHasher()
        try encodeRecords(try openRecords(snapshot)) { hasher.update($0) }
        return hasher.finalize()
    }
}

extension SinkServer {
    /// The sink's config as a client wants it: only its settings (retention
    /// and the like) may change, each checked; what emu keeps there for
    /// itself (`[Snapshots]`) stays the server's.
    func checkedSinkConfig(_ text: [UInt8]) throws -> INIDocument {
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

