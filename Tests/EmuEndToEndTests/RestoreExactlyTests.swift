import Foundation
import Glibc
import Testing

/// A checkout restores everything the snapshot keeps, mends metadata in
/// place, and deletes in `--to DIR` only when told (issue 11).
@Suite("checkout restores exactly what was saved")
struct RestoreExactlyTests {
    static func pushed(_ setup: String) throws -> Workspace {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash(setup))
        try w.expectSuccess(w.emu("push"))
        return w
    }

    @Test("a file whose only difference is an xattr gets the snapshot's xattrs back, its bytes not rewritten")
    func xattrOnlyDifference() throws {
        let w = try Self.pushed("echo x > f; setfattr -n user.k -v 1 f")
        try w.expectSuccess(w.bash("setfattr -n user.k -v 2 f; setfattr -n user.extra -v e f"))
        let before = inode(w.source + "/f")
        #expect(try w.emu("diff", "HEAD").stdout == "P\tf\n")
        let run = try w.emu("checkout", "HEAD")
        try w.expectSuccess(run)
        #expect(run.stdout.contains("0 files written") && run.stdout.contains("1 mended"), "\(run.stdout)")
        let attributes = try w.bash("getfattr --absolute-names -d f").stdout
        #expect(attributes.contains("user.k=\"1\""), "\(attributes)")
        #expect(!attributes.contains("user.extra"), "an xattr the snapshot does not hold must go: \(attributes)")
        #expect(inode(w.source + "/f") == before, "mended in place, not rewritten")
        #expect(try w.emu("diff", "HEAD").stdout == "")
    }

    @Test("an ACL added or changed after the push is put back as the snapshot has it")
    func aclOnlyDifference() throws {
        let w = try Self.pushed("echo x > f; echo y > g; setfacl -m u:nobody:r g")
        try w.expectSuccess(w.bash("setfacl -m u:nobody:rw f; setfacl -b g"))
        try w.expectSuccess(w.emu("checkout", "HEAD"))
        #expect(!(try w.bash("getfacl -c f").stdout.contains("user:nobody")), "the ACL the snapshot lacks must be removed")
        #expect(try w.bash("getfacl -c g").stdout.contains("user:nobody:r--"))
        #expect(try w.emu("diff", "HEAD").stdout == "")
    }

    @Test("mode, mtime and owner differences are mended in place: same inode, nothing written")
    func modeAndTimeMendedInPlace() throws {
        let w = try Self.pushed("echo x > f; chmod 640 f; touch -d '2020-01-01 10:00' f; echo y > g")
        try w.expectSuccess(w.bash("chmod 600 f; touch g; chown nobody g"))
        let inodes = (inode(w.source + "/f"), inode(w.source + "/g"))
        let run = try w.emu("checkout", "HEAD")
        try w.expectSuccess(run)
        #expect(run.stdout.contains("0 files written") && run.stdout.contains("2 mended"), "\(run.stdout)")
        #expect((inode(w.source + "/f"), inode(w.source + "/g")) == inodes)
        #expect(try w.bash("stat -c '%a %Y' f").stdout == "640 1577872800\n")
        #expect(try w.bash("stat -c %U g").stdout == "root\n")
    }

    @Test("a dry run names the mend it would make")
    func dryRunNamesMends() throws {
        let w = try Self.pushed("echo x > f")
        try w.expectSuccess(w.bash("chmod 600 f"))
        let run = try w.emu("checkout", "HEAD", "-n")
        try w.expectSuccess(run)
        #expect(run.stdout.contains("would mend metadata of f"), "\(run.stdout)")
        #expect(try w.bash("stat -c %a f").stdout == "600\n")
    }

    @Test("--to DIR: the refusal says what --force overwrites and what --delete removes; --force keeps unrelated files")
    func toDirectoryRefusalNamesWhatEachOptionTouches() throws {
        let w = try Self.pushed("echo one > a; echo two > b")
        let out = w.root + "/out"
        try w.expectSuccess(w.bash("mkdir '\(out)'; echo mine > '\(out)/a'; echo other > '\(out)/unrelated'"))
        let refused = try w.emu("checkout", "HEAD", "--to", out)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--force would overwrite 1 path"), "\(refused.stderr)")
        #expect(refused.stderr.contains("\n  a\n"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--delete would also remove 1 path"), "\(refused.stderr)")
        #expect(refused.stderr.contains("  unrelated"), "\(refused.stderr)")
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "-f"))
        #expect(try String(contentsOfFile: out + "/a", encoding: .utf8) == "one\n")
        #expect(try String(contentsOfFile: out + "/unrelated", encoding: .utf8) == "other\n")
        try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "-f", "--delete"))
        #expect(!FileManager.default.fileExists(atPath: out + "/unrelated"))
        let misuse = try w.emu("checkout", "HEAD", "--delete")
        #expect(misuse.status == 2 && misuse.stderr.contains("--delete goes with --to"), "\(misuse.stderr)")
    }

    /// rsync -naHAXc against the source showed only this line on a real tree.
    @Test("checkout --to an empty or missing DIR gives DIR the source root's mtime and mode, as every directory below it")
    func rootTimes() throws {
        let w = try Self.pushed("mkdir d && echo a > d/a && chmod 750 . && touch -d '2024-02-03 04:05:06' . d")
        for out in [w.root + "/missing", w.root + "/empty"] {
            if out.hasSuffix("empty") { #expect(sh("mkdir '\(out)'") == 0) }
            try w.expectSuccess(w.emu("checkout", "HEAD", "--to", out, "-q"))
            var st = stat(), want = stat()
            #expect(stat(out, &st) == 0 && stat(w.source, &want) == 0)
            #expect(st.st_mtim.tv_sec == want.st_mtim.tv_sec && st.st_mode & 0o7777 == 0o750, "\(out): mtime \(st.st_mtim.tv_sec), mode \(String(st.st_mode & 0o7777, radix: 8))")
        }
    }
}
