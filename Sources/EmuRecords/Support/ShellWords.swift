/// Splits a command line into words as a POSIX shell does, without running
/// anything: blanks separate words; single quotes keep everything up to the
/// next one; double quotes keep everything but a backslash before `"`, `\`,
/// `$` or a backquote; a backslash outside quotes keeps the next character.
/// So `ssh -o 'ProxyCommand=nc %h %p'` is three words, as rsync's `-e` reads
/// it. nil for an unterminated quote or a trailing backslash.
package func shellWords(_ text: String) -> [String]? {
    var words: [String] = []
    var word = ""
    var inWord = false
    var quote: Character? = nil
    var escaped = false
    for character in text {
        if escaped {
            if quote == "\"" && !"\"\\$`".contains(character) { word.append("\\") }
            (word, escaped) = (word + String(character), false)
            continue
        }
        switch (quote, character) {
        case ("'", "'"), ("\"", "\""): quote = nil
        case ("'", _): word.append(character)
        case ("\"", "\\"), (nil, "\\"): (escaped, inWord) = (true, true)
        case ("\"", _): word.append(character)
        case (nil, "'"), (nil, "\""): (quote, inWord) = (character, true)
        case (nil, " "), (nil, "\t"), (nil, "\n"):
            if inWord { words.append(word) }
            (word, inWord) = ("", false)
        default: (inWord, word) = (true, word + String(character))
        }
    }
    guard quote == nil, !escaped else { return nil }
    if inWord { words.append(word) }
    return words
}

/// `text` as one word for sh (what `shellWords` reads back as `text`):
/// plain when nothing in it is special, else in single quotes.
package func shellQuoted(_ text: String) -> String {
    text.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:@,=".contains($0) }) && !text.isEmpty
        ? text : "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
