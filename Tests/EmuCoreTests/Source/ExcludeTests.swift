@testable import EmuCore
import EmuPOSIX
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("Exclude rules")
struct ExcludeTests {
    func rules(_ text: String) throws -> ExcludeRules { try ExcludeRules(parsing: text, origin: "test") }

    @Test("patterns match as the excludes syntax says", arguments: [
        // rules, path, is directory, excluded
        ("*.tmp", "a.tmp", false, true),
        ("*.tmp", "deep/er/b.tmp", false, true),
        ("*.tmp", "a.tmpx", false, false),
        ("/build", "build", true, true),
        ("/build", "src/build", true, false),
        ("cache/", "x/cache", true, true),
        ("cache/", "x/cache", false, false),
        ("a/b", "x/a/b", false, true),
        ("a/b", "xa/b", false, false),
        ("a/**/z", "a/z", false, true),
        ("a/**/z", "a/b/c/z", false, true),
        ("**/*.o", "x/y.o", false, true),
        ("file?.txt", "file1.txt", false, true),
        ("file?.txt", "file10.txt", false, false),
        ("[abc]*", "beta", false, true),
        ("[!abc]*", "beta", false, false),
        ("[a-c]x", "bx", false, true),
        ("# a comment\n\n- *.log", "x.log", false, true),
        ("+ keep.tmp\n- *.tmp", "keep.tmp", false, false),
        ("- *.tmp\n+ keep.tmp", "keep.tmp", false, true),
        ("\\*literal", "*literal", false, true),
    ])
    func matches(text: String, path: String, isDirectory: Bool, excluded: Bool) throws {
        #expect(try rules(text).isExcluded(RelativePath(path), isDirectory: isDirectory) == excluded)
    }

    @Test("a name with a non-UTF-8 byte is matched by its bytes")
    func bytes() throws {
        var excludes = ExcludeRules()
        try excludes.add("bad*")
        #expect(excludes.isExcluded(RelativePath([0x62, 0x61, 0x64, 0x83]), isDirectory: false))
    }

    @Test("an empty pattern is a usage error naming the line")
    func emptyPattern() {
        #expect {
            try rules("*.o\n- \n")
        } throws: { ($0 as? EmuError)?.message.contains("line 2") == true }
    }
}
