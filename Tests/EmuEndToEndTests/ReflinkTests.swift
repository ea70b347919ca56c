import Foundation
import Glibc
import Testing

/// A sink that shares extents (xfs with reflink): a changed large file's
/// new copy is a reflink of the earlier one with only the changed blocks
/// written, and content held under other metadata is a reflink of the held
/// copy. On ext4 both are copied whole, as before.
@Suite("changed large files on a reflink sink")
struct ReflinkTests {
    @Test("a byte changed in a 48 MiB file adds a block to an xfs sink, whole to an ext4 one; both restore exactly",
          Skips.needsRoot("needs root to mount small filesystems"), arguments: ["xfs", "ext4"])
    func changedLargeFile(kind: String) throws {
        let (w, fs) = try pushChange(on: kind, first: "head -c \(48 << 20) /dev/urandom > big && echo small > small",
                               then: "printf Z | dd of=big bs=1 seek=\(20 << 20) conv=notrunc status=none",
                               copies: (xfs: 4096, ext4: 48 << 20))
        defer { withExtendedLifetime(fs) {} }
        try w.expectSuccess(w.emu("verify", "-q"))
        try w.expectSuccess(w.emu("checkout", "HEAD~1", "--to", w.root + "/older", "-q"))
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/newer", "-q"))
        #expect(sh("cmp -s '\(w.source)/big' '\(w.root)/newer/big'", mayFail: true) == 0, "the newest snapshot holds the changed file")
        #expect(sh("cmp -s '\(w.source)/big' '\(w.root)/older/big'", mayFail: true) != 0, "the older snapshot still holds the file before the change")
        #expect(sh("cmp -s -i \(20 << 20 + 1) '\(w.source)/big' '\(w.root)/older/big'", mayFail: true) == 0, "and they differ only there")
    }

    @Test("a copy of a file under another mtime is a reflink of the held copy on xfs (no block written), a copy on ext4",
          Skips.needsRoot("needs root to mount small filesystems"), arguments: ["xfs", "ext4"])
    func heldUnderOtherMetadata(kind: String) throws {
        // The same bytes under other metadata: a hardlink cannot share them.
        let (w, fs) = try pushChange(on: kind, first: "head -c \(24 << 20) /dev/urandom > photo && head -c 100000 /dev/urandom > note",
                               then: "mkdir album && cp photo album/photo && touch -d 2020-01-01 album/photo && cp note album/note && chmod 600 album/note",
                               copies: (xfs: 0, ext4: 24 << 20 + 100000))
        defer { withExtendedLifetime(fs) {} }
        try w.expectSuccess(w.emu("verify", "-q"))
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/out", "-q"))
        for name in ["album/photo", "album/note"] {
            #expect(sh("cmp -s '\(w.source)/\(name)' '\(w.root)/out/\(name)'", mayFail: true) == 0, "\(name) restores whole")
        }
        #expect(sh("test \"$(stat -c %Y '\(w.root)/out/album/photo')\" = \"$(stat -c %Y '\(w.source)/album/photo')\"", mayFail: true) == 0,
                "the copy keeps its own mtime")
    }

    /// A source made by `first` (shell, in the source) pushed to a sink on
    /// a new `kind` filesystem, then changed by `then` and pushed again: the
    /// second push copies `copies`' bytes for its kind, and adds less than
    /// 1 MiB on xfs, at least those bytes on ext4. The filesystem is
    /// unmounted when the caller lets it go.
    func pushChange(on kind: String, first: String, then: String, copies: (xfs: Int, ext4: Int)) throws -> (Workspace, ScratchFilesystem) {
        let w = try Workspace()
        let fs = try ScratchFilesystem.required(kind, megabytes: 400, in: w)
        try w.initialize(sink: "disk", on: fs)
        #expect(sh("cd '\(w.source)' && \(first)") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        let freeBefore = fs.freeBytes
        #expect(sh("cd '\(w.source)' && \(then)") == 0)
        let pushed = try w.emu("push", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let added = freeBefore - fs.freeBytes, copied = kind == "xfs" ? copies.xfs : copies.ext4
        #expect(pushed.stdout.contains(#""bytes_copied":\#(copied),"#), "\(pushed.stdout)")
        #expect(kind == "xfs" ? added < 1 << 20 : added >= copied, "the change added \(added) bytes")
        return (w, fs)
    }
}
