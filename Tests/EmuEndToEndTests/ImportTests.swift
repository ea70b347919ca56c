import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu import` (issue 15): backups made by the real rsnapshot and by
/// rsync --link-dest become snapshots, linked to the backups' own inodes,
/// with manifests and the content index, so the next push links to them.
@Suite("import")
struct ImportTests {
    /// Three runs of the real rsnapshot over `data`, a second apart (it dates by mtime).
    static func rsnapshotBackups(_ w: Workspace) throws -> String {
        let root = w.root + "/rsnapshot"
        #expect(sh("""
            mkdir -p '\(w.root)/data/docs' '\(root)' && cd '\(w.root)' && echo one > data/docs/a && echo two > data/b \
            && printf 'config_version\\t1.2\\nsnapshot_root\\t\(root)/\\ncmd_rsync\\t/usr/bin/rsync\\nretain\\tdaily\\t7\\nbackup\\t\(w.root)/data/\\tlocalhost/\\n' > rs.conf \
            && rsnapshot -c rs.conf daily && sleep 1.1 && echo three > data/c && echo changed > data/b \
            && rsnapshot -c rs.conf daily && sleep 1.1 && rsnapshot -c rs.conf daily
            """) == 0)
        return root
    }

    @Test("rsnapshot's daily.N become snapshots sharing the backups' inodes; verify is clean; the next push links")
    func fromRsnapshot() throws {
        let w = try Workspace().initialize()
        let root = try Self.rsnapshotBackups(w)
        let run = try w.emu("import", "rsnapshot", root)
        try w.expectSuccess(run)
        let snapshots = try w.loggedSnapshots()
        #expect(snapshots.map { $0["message"] as? String } == ["imported from rsnapshot daily.0", "imported from rsnapshot daily.1",
                                                              "imported from rsnapshot daily.2"])
        #expect(snapshots.allSatisfy { ($0["bytes_copied"] as? Int) == 0 }, "nothing copied: \(run.stderr)")
        // The snapshots hold the backed-up tree, not rsnapshot's localhost/<full path>/ around it.
        #expect(run.stderr.contains("importing localhost\(w.root)/data of each backup (the only backup point)"), "\(run.stderr)")
        let trees = try w.trees()
        let point = "/localhost" + w.root + "/data"
        for (tree, backup) in zip(trees, ["daily.2", "daily.1", "daily.0"]) {
            expectSameTrees(try describeTree(root + "/" + backup + point, ignoring: [.root]), try describeTree(tree, ignoring: [.root]))
            #expect(inode(tree + "/docs/a") == inode(root + "/" + backup + point + "/docs/a"), "\(backup) is linked, not copied")
        }
        try w.expectSuccess(w.emu("verify"))
        let again = try w.emu("import", "rsnapshot", root)
        try w.expectSuccess(again)
        #expect(try again.stderr.contains("taken as imported") && w.trees().count == 3, "\(again.stderr)")

        // The live data, pushed: its content is in the index already.
        #expect(sh("cp -a '\(w.root)/data/.' '\(w.source)/'") == 0)
        let push = try w.emu("push", "--json")
        try w.expectSuccess(push)
        #expect(push.stdout.contains("\"bytes_copied\":0"), "\(push.stdout)")
        // The next diff sees the same tree, not every file renamed.
        let diff = try w.emu("diff", "HEAD~1", "HEAD", "--stat", "--json")
        #expect(diff.stdout.contains("\"renamed\":0") && diff.stdout.contains("\"added\":0"), "\(diff.stdout)")
    }

    @Test("rsnapshot with several backup points: the source's own path is found, --path names another, a wrong one is refused")
    func rsnapshotBackupPoints() throws {
        let w = try Workspace().initialize()
        let root = w.root + "/rs"
        #expect(sh("mkdir -p '\(root)/daily.0/localhost\(w.source)' '\(root)/daily.0/localhost/etc' && echo s > '\(root)/daily.0/localhost\(w.source)/s' "
                   + "&& echo e > '\(root)/daily.0/localhost/etc/e'") == 0)
        let own = try w.emu("import", "rsnapshot", root, "-n")
        #expect(own.status == 0 && own.stderr.contains("importing localhost\(w.source) of each backup (the source's path)"), "\(own.stderr)")
        let other = try w.emu("import", "rsnapshot", root, "--path", "localhost/etc")
        try w.expectSuccess(other)
        #expect(try w.trees().last.map { FileManager.default.fileExists(atPath: $0 + "/e") } == true)
        let wrong = try w.emu("import", "rsnapshot", root, "--path", "localhost/nope")
        #expect(wrong.status == 2 && wrong.stderr.contains("--path localhost/nope is not a folder"), "\(wrong.stderr)")
        let misuse = try w.emu("import", "dirs", root, "--path", "x")
        #expect(misuse.status == 2, "\(misuse.stderr)")
    }

    @Test("rsync-time-backup folders made with rsync --link-dest, dated by their names; an unfinished run is left out")
    func fromRsyncTimeBackup() throws {
        let w = try Workspace().initialize()
        let root = w.root + "/tm"
        #expect(sh("""
            mkdir -p '\(w.root)/data' '\(root)' && touch '\(root)/backup.marker' && cd '\(w.root)' && echo one > data/a && echo two > data/b \
            && rsync -a data/ '\(root)/2025-03-01-120000/' && echo again > data/b \
            && rsync -a --link-dest='\(root)/2025-03-01-120000' data/ '\(root)/2025-03-02-120000/' \
            && rsync -a --link-dest='\(root)/2025-03-02-120000' data/ '\(root)/2025-03-03-120000/' && echo $$ > '\(root)/backup.inprogress'
            """) == 0)
        let run = try w.emu("import", "rsync-time-backup", root)
        try w.expectSuccess(run)
        #expect(run.stderr.contains("2025-03-03-120000 is unfinished"), "\(run.stderr)")
        #expect(try w.loggedSnapshots().compactMap { $0["name"] as? String } == ["2025-03-02 12.00.00Z", "2025-03-01 12.00.00Z"])
        expectSameTrees(try describeTree(root + "/2025-03-02-120000", ignoring: [.root]), try describeTree(try w.trees()[1], ignoring: [.root]))
        let notBackups = try w.emu("import", "rsync-time-backup", w.root + "/data")
        #expect(notBackups.status == 2 && notBackups.stderr.contains("no backup.marker"), "\(notBackups.stderr)")
        // An older folder after a newer snapshot is refused, naming the way out.
        #expect(sh("mkdir -p '\(w.root)/old/2024-01-01' && echo x > '\(w.root)/old/2024-01-01/x'") == 0)
        let older = try w.emu("import", "dirs", w.root + "/old/2024-01-01")
        #expect(older.status == 2 && older.stderr.contains("before the sink's newest snapshot"), "\(older.stderr)")
    }

    @Test("folders on another filesystem than the sink are copied; dirs are dated by name or mtime")
    func acrossFilesystems() throws {
        let w = try Workspace(sinkPath: "/dev/shm/emu-import-\(getpid())")
        defer { sh("rm -rf '\(w.sink)'", mayFail: true) }
        _ = try w.initialize()
        #expect(sh("mkdir -p '\(w.root)/b1' '\(w.root)/2025-05-05' && echo a > '\(w.root)/b1/a' && echo b > '\(w.root)/2025-05-05/b' "
                   + "&& touch -d '2025-01-01 08:00' '\(w.root)/b1'") == 0)
        let run = try w.emu("import", "dirs", w.root + "/b1", w.root + "/2025-05-05")
        try w.expectSuccess(run)
        #expect(try w.loggedSnapshots().compactMap { $0["name"] as? String } == ["2025-05-05 00.00.00Z", "2025-01-01 08.00.00Z"])
        #expect(run.stderr.contains("1 copied"), "\(run.stderr)")
        try w.expectSuccess(w.emu("verify"))
    }
}

/// `emu import` into a sink over ssh: the folders cross as pushes do, dated
/// and linked as an import into a local sink is.
@Suite("import over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteImportTests {
    @Test("rsync --link-dest folders imported into an ssh sink become dated snapshots; unchanged files are linked, not sent again")
    func intoSSHSink() throws {
        let w = try Workspace("emu-rimport")
        let server = try SSHServer(in: w.root)
        defer { withExtendedLifetime(server) {} }
        let root = w.root + "/tm"
        #expect(sh("""
            mkdir -p '\(w.root)/data' '\(root)' && touch '\(root)/backup.marker' && cd '\(w.root)' && echo one > data/a \
            && head -c 300000 /dev/urandom > data/big && rsync -a data/ '\(root)/2025-03-01-120000/' && echo again > data/b \
            && rsync -a --link-dest='\(root)/2025-03-01-120000' data/ '\(root)/2025-03-02-120000/'
            """) == 0)
        try w.expectSuccess(w.emu("init", "-q"))
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand,
                                  "--remote-emu", EmuBinary.path))
        let run = try w.emu("import", "rsync-time-backup", root, "--sink", "nas")
        try w.expectSuccess(run)
        #expect(run.stderr.contains("1 copied") && run.stderr.contains("2 linked"), "the second folder links a and big: \(run.stderr)")
        let snapshots = try w.loggedSnapshots("nas")
        #expect(snapshots.map { $0["name"] as? String } == ["2025-03-02 12.00.00Z", "2025-03-01 12.00.00Z"], "newest first")
        let trees = try w.trees(of: "nas", at: w.sink)
        try #require(trees.count == 2)
        #expect(inode(trees[0] + "/big") == inode(trees[1] + "/big"), "an unchanged file is linked on the server")
        expectSameTrees(try describeTree(root + "/2025-03-02-120000", ignoring: [.root]), try describeTree(trees[1], ignoring: [.root]))
        try w.expectSuccess(w.emu("verify", "nas"))
    }
}
