import EmuPOSIX
import EmuCore
import EmuRecords

/// A snapshot's tree on the server, as a checkout reads it: an entry's
/// xattrs, and a regular file's bytes. The checkout's walk asks ahead
/// (`ask`) as it decides, and its filler thread receives the answers
/// (`receive`) in the order they were asked, so a restore costs one round
/// trip in all, not one per file.
///
/// `restore ID PATH-HEX content|attributes` is answered by a stream: a
/// first `data` frame of xattr lines (see `Wire.lines(of:)`), then, for
/// `content`, the file's bytes, then `end`.
package final class RemoteTree {
    package let sink: RemoteSink
    package let snapshot: Snapshot

    package init(_ sink: RemoteSink, snapshot: Snapshot) {
        self.sink = sink
        self.snapshot = snapshot
    }

    /// Asks for the xattrs of the entry at `path`, and with `content` for
    /// its bytes; the question is sent with others, before anyone waits for
    /// its answer (see `TreeDirectory.sendQuestions`).
    package func ask(_ path: RelativePath, content: Bool) throws {
        try sink.channel.writer.send(Request.restore(snapshot: snapshot.id, path, content: content).frame)
    }

    /// The answer to the oldest question not yet received: the entry's
    /// xattrs; its bytes, if asked for, are written to `output`.
    package func receive(into output: OpenFile?) throws -> [ExtendedAttribute] {
        let pieces = FrameStream(sink)
        guard let first = try pieces.nextPiece() else {
            throw EmuError.failed("\(sink.server) sent no attributes for an entry of snapshot \(snapshot.shortID)", fix: "run the checkout again")
        }
        let attributes = first.split(separator: ManifestFormat.newline).compactMap(Wire.attribute)
        var writer = output.map(SparseWriter.init)
        do {
            while let piece = try pieces.nextPiece() { try writer?.write(piece) }
            try writer?.finish()
        } catch {
            pieces.close()  // the rest of this answer, so that the next one is read from its start
            throw error
        }
        return attributes
    }
}

extension SinkServer {
    /// `restore ID PATH-HEX content|attributes` (see `RemoteTree`). The
    /// path is resolved as every path read from a sink is (no symlink
    /// followed, no `..`), one directory open per directory met.
    package func answerRestore(_ id: String, _ path: RelativePath, content: Bool) throws {
        // One snapshot is read from many times: its tree stays open (listing the snapshots per file would cost more than the file).
        if restoring?.id != id {
            let snapshot = try snapshot(id)
            restoring = (snapshot.id, DirectoryCursor(root: try sink!.openTree(snapshot)))
        }
        let tree = restoring!.tree
        guard !path.isRoot else {
            try writer.send(Frame(.data, Wire.lines(of: try ExtendedAttributes.read(.file(tree.root.file)))))
            return try writer.send(Frame(.end))
        }
        let (directory, name) = try tree.parentAndName(of: path)
        guard content else {
            try writer.send(Frame(.data, Wire.lines(of: try ExtendedAttributes.read(.entry(directory, name)))))
            return try writer.send(Frame(.end))
        }
        let input = try Self.openRegular(name, in: directory, path: path, snapshotID: id)
        defer { input.close() }
        try writer.send(Frame(.data, Wire.lines(of: try ExtendedAttributes.read(.file(input)))))
        try sendBytes(of: input)
    }
}

/// A directory of a server's snapshot: every read is asked ahead and
/// received in the order asked (see `RemoteTree`).
package struct RemoteTreeDirectory: TreeDirectory {
    package let tree: RemoteTree
    package let path: RelativePath

    package func child(_ name: FileName) throws -> TreeDirectory { RemoteTreeDirectory(tree: tree, path: path.appending(name)) }
    package var asksAhead: Bool { true }

    package func askAhead(_ name: FileName?, content: Bool) throws {
        try tree.ask(name.map { path.appending($0) } ?? path, content: content)
    }

    package func sendQuestions() throws { try tree.sink.channel.writer.flush() }

    package func attributes(_ name: FileName?) throws -> [ExtendedAttribute] { try tree.receive(into: nil) }

    package func restoreFile(_ name: FileName, into output: OpenFile, copyingBytes: Bool, readsAttributes: Bool, copier: DataCopier,
                     apply: ([ExtendedAttribute]?, EntryMetadata.Target?) throws -> Void) throws {
        let attributes = try tree.receive(into: output)
        try apply(readsAttributes ? attributes : nil, nil)
    }

    package var aclSource: OpenFile? { nil }

    package func withACLSource(of name: FileName, _ body: (EntryMetadata.Target?) throws -> Void) throws { try body(nil) }
}
