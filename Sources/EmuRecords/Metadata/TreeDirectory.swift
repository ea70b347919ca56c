import EmuPOSIX

/// A directory of a tree being copied from, where its entries' bytes and
/// xattrs are read: one this machine opens (`LocalTreeDirectory`: a local
/// sink's snapshot, a push's source), or a snapshot on a server
/// (`RemoteTreeDirectory`), which answers in the order it was asked. A
/// checkout reading a server's tree asks ahead as it walks and receives
/// every answer on its filler thread. A new kind of sink implements this
/// beside its `SinkStore`.
package protocol TreeDirectory {
    func child(_ name: FileName) throws -> TreeDirectory
    /// Whether reads are asked ahead and answered in that order (a server's
    /// tree): a checkout then hands every read to its filler thread.
    var asksAhead: Bool { get }
    /// Asks ahead for an entry's xattrs (the directory's own when `name` is
    /// nil), and with `content` for a file's bytes; a local tree is read
    /// when needed.
    func askAhead(_ name: FileName?, content: Bool) throws
    /// Sends the questions asked ahead and not sent yet (they are gathered:
    /// ssh pays per packet).
    func sendQuestions() throws
    /// The xattrs of an entry (the directory's own when `name` is nil): for
    /// a server's tree, the answer to the matching `askAhead`.
    func attributes(_ name: FileName?) throws -> [ExtendedAttribute]
    /// Writes the regular file `name`'s bytes (unless `copyingBytes` is
    /// false) to `output`, then calls `apply` with its xattrs (when
    /// `readsAttributes`) and what its ACLs are copied from through libacl
    /// (a local file; a server's come as raw xattrs instead).
    func restoreFile(_ name: FileName, into output: OpenFile, copyingBytes: Bool, readsAttributes: Bool, copier: DataCopier,
                     apply: ([ExtendedAttribute]?, EntryMetadata.Target?) throws -> Void) throws
    /// What a directory's own ACLs are copied from (nil: from raw xattrs).
    var aclSource: OpenFile? { get }
    /// Calls `body` with what the ACLs of an entry already restored are
    /// mended from (nil: from raw xattrs).
    func withACLSource(of name: FileName, _ body: (EntryMetadata.Target?) throws -> Void) throws
}

extension TreeDirectory {
    package func askAhead(_ name: FileName?) throws { try askAhead(name, content: false) }
}

/// A tree this machine opens.
package struct LocalTreeDirectory: TreeDirectory {
    package let directory: DirectoryHandle

    package init(_ directory: DirectoryHandle) { self.directory = directory }

    package func child(_ name: FileName) throws -> TreeDirectory { LocalTreeDirectory(try directory.openDirectory(name)) }
    package var asksAhead: Bool { false }
    package func askAhead(_ name: FileName?, content: Bool) throws {}
    package func sendQuestions() throws {}

    package func attributes(_ name: FileName?) throws -> [ExtendedAttribute] {
        try ExtendedAttributes.read(name.map { .entry(directory, $0) } ?? .file(directory.file))
    }

    package func restoreFile(_ name: FileName, into output: OpenFile, copyingBytes: Bool, readsAttributes: Bool, copier: DataCopier,
                     apply: ([ExtendedAttribute]?, EntryMetadata.Target?) throws -> Void) throws {
        let input = try directory.openForReading(name)
        defer { input.close() }
        if copyingBytes { _ = try copier.copyInKernel(from: input, to: output) }
        try apply(readsAttributes ? try ExtendedAttributes.read(.file(input)) : nil, .open(input))
    }

    package var aclSource: OpenFile? { directory.file }

    package func withACLSource(of name: FileName, _ body: (EntryMetadata.Target?) throws -> Void) throws {
        let input = try directory.openForReading(name)
        defer { input.close() }
        try body(.open(input))
    }
}
