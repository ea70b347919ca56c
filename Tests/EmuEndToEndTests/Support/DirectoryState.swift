import Foundation
import Glibc
import Testing

/// Everything of a directory tree a write would change, one line an entry:
/// type, mode, owner, size, mtime, ctime, inode, link count and link
/// target, and each file's SHA-256. Two states taken around a command show
/// what it wrote, to the inode.
struct DirectoryState {
    let lines: Set<String>

    init(of path: String) {
        let out = NSTemporaryDirectory() + "emu-state-\(UUID().uuidString)"
        defer { unlink(out) }
        sh("cd '\(path)' && { find . -printf '%p %y %m %U:%G %s %T@ %C@ %i %n %l\\n'; find . -type f -exec sha256sum {} +; } > '\(out)'")
        lines = Set(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
    }

    /// Whether any line names `text` (a path's presence, say).
    func mentions(_ text: String) -> Bool { lines.contains { $0.contains(text) } }

    /// The lines that differ from `before`, sorted, leaving out those `ignoring` accepts.
    func changes(since before: DirectoryState, ignoring: (String) -> Bool = { _ in false }) -> [String] {
        lines.symmetricDifference(before.lines).filter { !ignoring($0) }.sorted()
    }
}
