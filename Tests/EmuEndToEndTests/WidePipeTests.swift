import Foundation
import Glibc
import Testing

/// The pipes between emu and ssh, on both machines, hold 1 MiB: the
/// protocol writes 256 KiB at a time, and with Linux's 64 KiB default each
/// write waited for the other side three times. (A restore of home at 0.3
/// over loopback ssh: 1.7 to 1.9 s with the default, 1.3 s with 1 MiB.)
@Suite("wide pipes to and from ssh")
struct WidePipeTests {
    static let mebibyte: Int32 = 1 << 20

    @Test("emu serve widens the pipes sshd gives it")
    func serverPipes() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("push", "-q"))
        let session = try ServeSession(["--sink", w.sink], in: w.root)
        #expect(session.hello(sink: w.sink)?.kind == .hello)
        #expect(session.pipeSizes == [Self.mebibyte, Self.mebibyte], "\(session.pipeSizes)")
        #expect(session.close(within: 60) == 0)
    }

    @Test("the ssh command emu starts gets wide pipes")
    func clientPipes() throws {
        let w = try Workspace().initialize()
        let said = w.root + "/pipe-sizes"
        let ssh = w.root + "/fake-ssh"
        try """
            #!/usr/bin/env python3
            import fcntl
            with open("\(said)", "w") as out: out.write(" ".join(str(fcntl.fcntl(fd, 1032)) for fd in (0, 1)))
            """.write(toFile: ssh, atomically: true, encoding: .utf8)
        chmod(ssh, 0o755)
        let added = try w.emu("sink", "add", "nas", "host:/srv/emu", "--ssh-command", ssh)
        #expect(added.status != 0, "the fake ssh answers nothing")
        #expect(try String(contentsOfFile: said, encoding: .utf8) == "\(Self.mebibyte) \(Self.mebibyte)")
    }
}
