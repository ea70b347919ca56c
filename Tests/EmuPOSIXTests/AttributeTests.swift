import EmuPOSIX
import Glibc
import SystemPackage
import Testing

@Suite("Extended attributes and ACLs")
struct AttributeTests {
    @Test("xattrs are listed sorted, read and written by descriptor")
    func xattrRoundTrip() throws {
        let dir = TemporaryDirectory()
        dir.write("a", "x")
        dir.write("b", "y")
        let root = try dir.handle()
        let a = try root.openForReading(FileName("a"))
        defer { a.close() }
        let big = [UInt8](repeating: 0x41, count: 3000)  // bigger than the first buffer: ERANGE path
        let written = [
            ExtendedAttribute(name: Array("user.zeta".utf8), value: Array("1".utf8)),
            ExtendedAttribute(name: Array("user.alpha".utf8), value: big),
        ]
        try ExtendedAttributes.write(written, to: .file(a))
        let read = try ExtendedAttributes.read(.file(a))
        #expect(read.map(\.name) == [Array("user.alpha".utf8), Array("user.zeta".utf8)])
        #expect(read[0].value == big)
    }

    @Test("a symlink's attributes are read through its directory, not its target")
    func symlinkAttributes() throws {
        let dir = TemporaryDirectory()
        dir.write("target", "x")
        shell("setfattr -n user.t -v 1 '\(dir.path)/target'")
        let root = try dir.handle()
        try root.makeSymlink(FileName("link"), target: Array("target".utf8))
        let attributes = try ExtendedAttributes.read(.entry(root, FileName("link")))
        #expect(attributes.isEmpty)
    }

    @Test("an access and a default ACL are copied with libacl")
    func aclCopy() throws {
        let dir = TemporaryDirectory()
        shell("mkdir '\(dir.path)/src' '\(dir.path)/dst' && setfacl -m u:nobody:rx '\(dir.path)/src' && setfacl -d -m u:nobody:r '\(dir.path)/src'")
        let root = try dir.handle()
        let source = try root.openDirectory(FileName("src"))
        let destination = try root.openDirectory(FileName("dst"))
        let names = try ExtendedAttributes.names(of: .file(source.file))
        #expect(names.contains(ExtendedAttribute.accessACL))
        #expect(names.contains(ExtendedAttribute.defaultACL))
        try AccessControlList.copy(from: source.file, to: destination.file, hasAccess: true, hasDefault: true)
        #expect(try AccessControlList.accessText(destination.file).contains("u:nobody:r-x"))
        #expect(try AccessControlList.defaultText(destination.file).contains("u:nobody:r--"))
    }

    @Test("xattr.conf decides what is copied: ACLs are left to libacl")
    func xattrConf() {
        #expect(ExtendedAttributes.shouldCopy(Array("user.anything".utf8)))
        #expect(!ExtendedAttributes.shouldCopy(ExtendedAttribute.accessACL))
    }
}
