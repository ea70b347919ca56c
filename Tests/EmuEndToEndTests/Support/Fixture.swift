import EmuPOSIX
import Foundation
import Glibc

/// A tree described as data, made for real on disk.
indirect enum Node {
    case file(String, mode: UInt32 = 0o644)
    /// A file of `size` bytes that is a hole but for `data` at its offsets.
    case sparse(size: Int64, data: [(offset: Int64, text: String)])
    case directory([FileName: Node], mode: UInt32 = 0o755)
    case symlink(String)
    /// Another name of an earlier file (a path from the tree's root).
    case hardlink(String)
    case fifo
}

extension FileName: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

enum Fixture {
    /// Makes `tree` below `path`: everything else first, then the hardlinks,
    /// so that each finds the file it names.
    static func create(_ tree: [FileName: Node], at path: String) throws {
        let root = try DirectoryHandle.open(path)
        try create(tree, in: root, rootPath: path, links: false)
        try create(tree, in: root, rootPath: path, links: true)
    }

    private static func create(_ tree: [FileName: Node], in directory: DirectoryHandle, rootPath: String, links: Bool) throws {
        for (name, node) in tree.sorted(by: { $0.key < $1.key }) {
            if case .directory(let children, _) = node, links {
                try create(children, in: try directory.openDirectory(name), rootPath: rootPath, links: true)
                continue
            }
            if case .hardlink = node {
                if !links { continue }
            } else if links {
                continue
            }
            switch node {
            case .file(let text, let mode):
                let fd = try directory.createFile(name, permissions: 0o600)
                try fd.writeAll(Array(text.utf8))
                try fd.setPermissions(mode)
                fd.close()
            case .sparse(let size, let data):
                let fd = try directory.createFile(name, permissions: 0o644)
                for (offset, text) in data {
                    try Array(text.utf8).withUnsafeBytes { try fd.writeAll($0, at: offset) }
                }
                try fd.truncate(to: size)
                fd.close()
            case .directory(let children, let mode):
                try directory.makeDirectory(name, permissions: 0o700)
                try create(children, in: try directory.openDirectory(name), rootPath: rootPath, links: false)
                try directory.setPermissions(name, mode)
            case .symlink(let target):
                try directory.makeSymlink(name, target: Array(target.utf8))
            case .hardlink(let existing):
                let root = try DirectoryHandle.open(rootPath)
                try root.link(path: RelativePath(existing), to: directory, as: name)
            case .fifo:
                try directory.makeNode(name, kind: .fifo, permissions: 0o644, device: 0)
            }
        }
    }
}
