import Testing
@testable import EmuRecords

/// `sink.NAME.ssh-command` is split into words as a shell splits them (issue 28).
@Suite("shell words")
struct ShellWordsTests {
    @Test("quotes and backslashes keep what a shell keeps", arguments: [
        ("ssh -o BatchMode=yes", ["ssh", "-o", "BatchMode=yes"]),
        ("ssh -o 'ProxyCommand=nc %h %p'", ["ssh", "-o", "ProxyCommand=nc %h %p"]),
        ("ssh  -i \"/keys/my key\"\t-p 22", ["ssh", "-i", "/keys/my key", "-p", "22"]),
        (#"ssh -o ProxyCommand=nc\ %h\ %p"#, ["ssh", "-o", "ProxyCommand=nc %h %p"]),
        (#"a "b\"c\d" 'e\f'"#, ["a", #"b"c\d"#, #"e\f"#]),
        ("x '' \"\"", ["x", "", ""]),
        ("", []),
    ])
    func split(text: String, words: [String]) {
        #expect(shellWords(text) == words, "\(text)")
    }

    @Test("an unterminated quote or a trailing backslash is no command", arguments: ["ssh -o 'Proxy", "ssh \"x", "ssh \\"])
    func unterminated(text: String) {
        #expect(shellWords(text) == nil, "\(text)")
    }
}
