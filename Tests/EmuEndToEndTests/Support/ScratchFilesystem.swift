import Foundation
import Testing
import Glibc

/// A small filesystem of its own for a test, mounted below the workspace and
/// unmounted when the test ends: an image on a loop device (ext4, xfs) or a
/// tmpfs. nil where it cannot be mounted (not root, no tools): the test then
/// says it skipped.
final class ScratchFilesystem {
    let mountPoint: String
    let image: String?

    /// `kind` is "ext4", "xfs" or "tmpfs"; `megabytes` its size.
    init?(_ kind: String, megabytes: Int, in workspace: Workspace, name: String = "fs", options: String = "") {
        mountPoint = workspace.root + "/" + name
        try? FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mountOptions = options.isEmpty ? "" : "-o \(options)"
        switch kind {
        case "tmpfs":
            image = nil
            guard sh("mount -t tmpfs -o size=\(megabytes)m tmpfs '\(mountPoint)'", mayFail: true) == 0 else { return nil }
        default:
            let path = workspace.root + "/\(name).img"
            image = path
            let make = kind == "xfs" ? "mkfs.xfs -q '\(path)'" : "mkfs.ext4 -q -m 0 '\(path)'"
            guard sh("truncate -s \(megabytes)M '\(path)' && \(make) && mount -o loop \(mountOptions) '\(path)' '\(mountPoint)'", mayFail: true) == 0 else {
                return nil
            }
        }
    }

    deinit { sh("umount '\(mountPoint)' 2>/dev/null || umount -l '\(mountPoint)'", mayFail: true) }

    /// Free bytes, as statvfs says after a sync.
    var freeBytes: Int64 {
        sync()
        var st = statvfs()
        guard statvfs(mountPoint, &st) == 0 else { return 0 }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }
}

/// Writes `count` files of `kilobytes` random bytes each under `directory`.
func writeRandomFiles(_ directory: String, count: Int, kilobytes: Int, prefix: String = "f") {
    sh("mkdir -p '\(directory)' && for i in $(seq 1 \(count)); do head -c \(kilobytes * 1024) /dev/urandom > '\(directory)/\(prefix)'$i; done")
}

extension Workspace {
    /// `emu init`, and a sink NAME made at `fs`'s `/sink`.
    func initialize(sink name: String, on fs: ScratchFilesystem) throws {
        try expectSuccess(emu("init"))
        try expectSuccess(emu("sink", "add", name, fs.mountPoint + "/sink"))
    }
}
