import EmuPOSIX
import Foundation
import Glibc
import SystemPackage
import Testing

/// Everything a snapshot must keep of one entry, read through the POSIX layer.
struct EntryDescription: Equatable, CustomStringConvertible {
    var kind: FileKind
    var permissions: UInt32
    var owner: UInt32
    var group: UInt32
    var modified: FileTime
    var size: Int64
    var bytes: [UInt8]?
    var symlinkTarget: [UInt8]?
    var device: UInt64?
    /// xattrs, ACLs among them as raw values.
    var attributes: [ExtendedAttribute]
    /// The first path, in path order, of this entry's inode within the tree.
    var linkGroup: RelativePath
    var isSparse: Bool

    var description: String {
        "\(kind) \(String(permissions, radix: 8)) \(owner):\(group) mtime \(modified.seconds).\(modified.nanoseconds) size \(size) sparse \(isSparse) group \(linkGroup) attrs \(attributes.map { String(decoding: $0.name, as: UTF8.self) })"
    }
}

/// Describes a whole tree, path by path; directory mtimes and sizes are
/// compared too, but `ignoring` can drop paths (such as `.emu`).
func describeTree(_ path: String, ignoring: Set<RelativePath> = []) throws -> [RelativePath: EntryDescription] {
    var result: [RelativePath: EntryDescription] = [:]
    var firstNames: [UInt64: RelativePath] = [:]
    let root = try DirectoryHandle.open(path)
    func visit(_ directory: DirectoryHandle, _ relative: RelativePath) throws {
        for entry in try directory.entries().sorted(by: { $0.name < $1.name }) {
            let childPath = relative.appending(entry.name)
            if ignoring.contains(childPath) { continue }
            let status = try directory.status(entry.name)
            var description = EntryDescription(
                kind: status.kind, permissions: status.permissions, owner: status.owner, group: status.group,
                modified: status.modified, size: status.kind == .directory ? 0 : status.size, attributes: [],
                linkGroup: childPath, isSparse: status.kind == .regular && status.isSparse)
            switch status.kind {
            case .regular:
                let fd = try directory.openForReading(entry.name)
                description.bytes = try fd.readToEnd()
                description.attributes = try ExtendedAttributes.read(.file(fd))
                fd.close()
                if let first = firstNames[status.inode] { description.linkGroup = first } else { firstNames[status.inode] = childPath }
            case .symlink:
                description.symlinkTarget = try directory.readSymlink(entry.name)
            case .characterDevice, .blockDevice:
                description.device = status.deviceNumber
            case .directory:
                let child = try directory.openDirectory(entry.name)
                description.attributes = try ExtendedAttributes.read(.file(child.file))
                try visit(child, childPath)
            default:
                description.attributes = (try? ExtendedAttributes.read(.entry(directory, entry.name))) ?? []
            }
            result[childPath] = description
        }
    }
    try visit(root, .root)
    return result
}

/// Expects two trees to hold the same entries with the same everything.
func expectSameTrees(_ expected: [RelativePath: EntryDescription], _ actual: [RelativePath: EntryDescription],
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(expected.keys) == Set(actual.keys), "paths differ", sourceLocation: sourceLocation)
    for (path, want) in expected.sorted(by: { $0.key < $1.key }) {
        guard let got = actual[path] else { continue }
        #expect(got == want, "\(path):\n  want \(want)\n  got  \(got)", sourceLocation: sourceLocation)
    }
}
