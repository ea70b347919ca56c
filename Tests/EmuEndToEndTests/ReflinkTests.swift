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
        let w = try Workspace()
        let fs = try ScratchFilesystem.required(kind, megabytes: 400, in: w)
        try w.initialize(sink: "disk", on: fs)
        sh("head -c \(48 << 20) /dev/urandom > '\(w.source)/big' && echo small > '\(w.source)/small'")
        try w.expectSuccess(w.emu("push", "-q"))
        let freeBefore = fs.freeBytes
        sh("printf Z | dd of='\(w.source)/big' bs=1 seek=\(20 << 20) conv=notrunc status=none")
        let pushed = try w.emu("push", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let added = freeBefore - fs.freeBytes
        if kind == "xfs" {
            #expect(pushed.stdout.contains(#""bytes_copied":4096,"#), "\(pushed.stdout)")
            #expect(added < 1 << 20, "the changed file added \(added) bytes")
        } else {
            #expect(pushed.stdout.contains(#""bytes_copied":\#(48 << 20),"#), "\(pushed.stdout)")
            #expect(added >= 48 << 20, "the changed file added \(added) bytes")
        }
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
        let w = try Workspace()
        let fs = try ScratchFilesystem.required(kind, megabytes: 400, in: w)
        try w.initialize(sink: "disk", on: fs)
        sh("head -c \(24 << 20) /dev/urandom > '\(w.source)/photo' && head -c 100000 /dev/urandom > '\(w.source)/note'")
        try w.expectSuccess(w.emu("push", "-q"))
        let freeBefore = fs.freeBytes
        // The same bytes under other metadata: a hardlink cannot share them.
        sh("mkdir '\(w.source)/album' && cp '\(w.source)/photo' '\(w.source)/album/photo' && touch -d 2020-01-01 '\(w.source)/album/photo'")
        sh("cp '\(w.source)/note' '\(w.source)/album/note' && chmod 600 '\(w.source)/album/note'")
        let pushed = try w.emu("push", "--json")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let added = freeBefore - fs.freeBytes
        if kind == "xfs" {
            #expect(pushed.stdout.contains(#""bytes_copied":0,"#), "\(pushed.stdout)")
            #expect(added < 1 << 20, "the copies added \(added) bytes")
        } else {
            #expect(pushed.stdout.contains(#""bytes_copied":\#(24 << 20 + 100000),"#), "\(pushed.stdout)")
            #expect(added >= 24 << 20, "the copies added \(added) bytes")
        }
        try w.expectSuccess(w.emu("verify", "-q"))
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", w.root + "/out", "-q"))
        for name in ["album/photo", "album/note"] {
            #expect(sh("cmp -s '\(w.source)/\(name)' '\(w.root)/out/\(name)'", mayFail: true) == 0, "\(name) restores whole")
        }
        #expect(sh("test \"$(stat -c %Y '\(w.root)/out/album/photo')\" = \"$(stat -c %Y '\(w.source)/album/photo')\"", mayFail: true) == 0,
                "the copy keeps its own mtime")
    }
}
