import EmuPOSIX

/// A directory of a tree being copied from, where its entries' bytes and
/// xattrs are read: one this machine opens (a local sink's snapshot, a
/// push's source), or a snapshot on a server (`RemoteTree`), which answers
/// in the order it was asked. A checkout reading a server's tree asks ahead
/// as it walks and receives every answer on its filler thread.
enum TreeDirectory {
    case local(DirectoryHandle)
    case remote(RemoteTree, RelativePath)

    func child(_ name: FileName) throws -> TreeDirectory {
        switch self {
        case .local(let directory): .local(try directory.openDirectory(name))
        case .remote(let tree, let path): .remote(tree, path.appending(name))
        }
    }

    var isRemote: Bool {
        if case .remote = self { true } else { false }
    }

    /// Asks a server ahead for an entry's xattrs (the directory's own when
    /// `name` is nil), and with `content` for a file's bytes; a local tree
    /// is read when needed.
    func askAhead(_ name: FileName?, content: Bool = false) throws {
        guard case .remote(let tree, let path) = self else { return }
        try tree.ask(name.map { path.appending($0) } ?? path, content: content)
    }

    /// Sends the questions asked ahead and not sent yet (they are gathered:
    /// ssh pays per packet).
    func sendQuestions() throws {
        if case .remote(let tree, _) = self { try tree.sink.channel.writer.flush() }
    }

    /// The xattrs of an entry (the directory's own when `name` is nil): a
    /// server's answer to the matching `askAhead`.
    func attributes(_ name: FileName?) throws -> [ExtendedAttribute] {
        switch self {
        case .local(let directory): try ExtendedAttributes.read(name.map { .entry(directory, $0) } ?? .file(directory.file))
        case .remote(let tree, _): try tree.receive(into: nil)
        }
    }

    /// What a restored entry's ACLs are copied from through libacl: a local
    /// tree's entry; a server's come as raw xattrs instead.
    var aclSource: OpenFile? {
        if case .local(let directory) = self { directory.file } else { nil }
    }
}
