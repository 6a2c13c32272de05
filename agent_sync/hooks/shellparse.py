"""Which files would a Bash command write?

The Claude Code PreToolUse hook calls write_targets() on every Bash tool call
to block writes to files that other agents have locked.  It runs once per
call, so this module imports only ``os`` (loaded at interpreter start-up
anyway) and uses its own small lexer instead of ``shlex``/``re``.

The analysis is best effort and leans towards naming more paths: it is a
guard rail for cooperating agents, not a sandbox.
"""

import os

_MAX_NEST = 32        # deepest ( ), { }, $( ) nesting we follow
_MAX_SHELL_DEPTH = 3  # bash -c / eval inside bash -c / eval ...
_MAX_WRAPPERS = 8     # prefixes such as "sudo env nice" on one command
_PATH_MAX = 4096      # longer working directories are treated as unknown

_NAME_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'
_NAME_CHARS = _NAME_START + '0123456789'
_META = ' \t\n;&|<>()'
_WORD_STOP = _META + '\\\'"$`'
_TILDE_END = ('', '/') + tuple(_META)  # "~" alone or "~/..." (not "~user")
_OPERATORS = ('&>>', '<<<', '<<-', '&&', '||', ';;', '|&', '&>', '>>', '>|',
              '>&', '<<', '<&', '<>', ';', '|', '&', '>', '<', '(', ')', '\n')
_SEPARATORS = frozenset(('&&', '||', ';', ';;', '|', '|&', '&', '\n'))
_REDIRECTS = frozenset(('>', '>>', '>|', '&>', '&>>', '>&', '<>',
                        '<', '<<', '<<-', '<<<', '<&'))
_WRITE_REDIRECTS = frozenset(('>', '>>', '>|', '&>', '&>>', '>&', '<>'))
_RESERVED = frozenset(('!', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done',
                       'while', 'until', 'esac'))
_NOT_FILES = frozenset(('/dev/null', '/dev/stdin', '/dev/stdout', '/dev/stderr',
                        '/dev/tty', '/dev/zero', '/dev/full', '/dev/random',
                        '/dev/urandom'))
_ANSI_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', 'e': '\x1b', 'a': '\a',
                 'b': '\b', 'f': '\f', 'v': '\v', '\\': '\\', "'": "'", '"': '"'}

# Short options that take an argument ("x:"), or an optional attached one ("x::").
_SHORT_ARGS = {
    'cp': 't:S:', 'mv': 't:S:', 'ln': 't:S:', 'install': 't:S:m:o:g:',
    'shred': 'n:s:', 'mkdir': 'm:', 'touch': 'd:r:t:', 'truncate': 'r:s:',
    'sed': 'e:f:l:i::', 'perl': 'e:E:I:M:m:i::0::l::x::C::d::D::F::',
    'sort': 'k:o:t:S:T:', 'curl': 'o:H:d:X:u:A:e:b:c:F:T:w:m:x:',
    'wget': 'O:o:a:P:U:t:T:e:', 'git': 'C:c:', 'sudo': 'u:g:C:D:h:p:r:t:T:U:',
    'doas': 'u:C:', 'env': 'u:C:S:', 'nice': 'n:', 'time': 'f:o:', 'exec': 'a:',
    'timeout': 's:k:', 'stdbuf': 'i:o:e:', 'xargs': 'I:n:P:d:a:s:L:E:',
}
_SHELL_SHORT_ARGS = 'o:O:'
# Long options (of any command above) given their argument as the next word.
_LONG_WITH_ARG = frozenset((
    '--target-directory', '--suffix', '--mode', '--owner', '--group', '--size',
    '--reference', '--date', '--iterations', '--expression', '--file',
    '--line-length', '--output', '--output-document', '--key', '--user',
    '--chdir', '--unset', '--split-string', '--signal', '--kill-after',
    '--adjustment', '--git-dir', '--work-tree', '--namespace', '--orphan',
    '--source', '--exclude', '--rcfile', '--init-file'))
# Commands whose value of these options is a file they write.
_OUTPUT_OPTIONS = {'sort': ('-o', '--output'), 'curl': ('-o', '--output'),
                   'wget': ('-O', '--output-document')}
_WRAPPERS = frozenset(('sudo', 'doas', 'env', 'nice', 'nohup', 'time', 'command',
                       'builtin', 'exec', 'timeout', 'stdbuf', 'xargs'))


def write_targets(command: str, cwd: str) -> list[str] | None:
    """Paths the shell command would write, as absolute, normalised paths.

    Relative paths resolve against cwd, as changed by ``cd DIR``/``pushd DIR``
    earlier in the same command list (a cd inside ``( )``, ``$( )`` or
    ``bash -c`` does not leak out).  Paths come in the order the shell would
    write them (redirections before a command's own files), without repeats.

    Returns [] when the command writes nothing we recognise, and None when it
    cannot be analysed (unbalanced quotes, a relative path after ``cd -``,
    ``git stash``/``reset --hard``/``clean``/``apply``); the caller then
    allows it.

    - Globs are not expanded: ``rm src/*.py`` yields ``<cwd>/src/*.py`` and the
      caller treats it as a pattern.  Brace expansion is not done either.
    - ``~`` and ``~/x`` expand from $HOME, ``$VAR``/``${VAR}`` from os.environ.
      A word still holding ``$( )``, backticks or an unset variable is skipped.
    - Non-file targets (/dev/null, /dev/fd/N, ``2>&1``, ``-``) are dropped.
    - ``git checkout`` without ``--`` yields only operands that exist on disk:
      ``git checkout main`` yields nothing, ``git checkout .`` yields cwd.
    """
    out = []
    try:
        tokens = _Lexer(command).tokens()
        _Walker(tokens, out, 0, 0).run_list(os.path.abspath(cwd))
    except _Unparseable:
        return None
    return list(dict.fromkeys(p for p in out if not _is_device(p)))


class _Unparseable(Exception):
    """The command cannot be analysed; write_targets() returns None."""


class _Word:
    """One shell word after quote removal and the expansions we can do."""
    __slots__ = ('text', 'parts', 'known', 'plain', 'subs')

    def __init__(self, text='', known=True):
        self.text = text
        self.parts = []     # pieces of text while the lexer builds the word
        self.known = known  # False once it holds an expansion we cannot resolve
        self.plain = True   # no quotes, escapes or expansions: may be a keyword
        self.subs = []      # token lists of the $( ), ` ` and <( ) inside it


class _Lexer:
    """Splits a command into _Word and operator-string tokens."""

    def __init__(self, text, nest=0):
        self.s = text
        self.pos = 0
        self.nest = nest
        self.heredocs = []  # (delimiter, strip_tabs) waiting for the next newline

    def tokens(self, closer=False):
        """Lex to the end, or with closer up to the ')' that ends a $( )."""
        s, n = self.s, len(self.s)
        toks, word, depth = [], None, 0
        while self.pos < n:
            c = s[self.pos]
            if c in ' \t':
                word = self._end_word(word, toks)
                self.pos += 1
            elif c == '\\' and s.startswith('\n', self.pos + 1):
                self.pos += 2  # line continuation
            elif c == '#' and word is None:
                end = s.find('\n', self.pos)
                self.pos = n if end < 0 else end
            elif c in '<>' and s.startswith('(', self.pos + 1):
                word = word or _Word()  # process substitution <( ) / >( )
                self.pos += 2
                self._substitution(word)
            elif c == '(' and s.startswith('(', self.pos + 1):
                word = self._end_word(word, toks)  # (( arithmetic )) writes nothing
                self.pos = self._skip_arithmetic(self.pos)
            elif c in _META:
                if c in '<>' and word is not None and word.plain and ''.join(word.parts).isdigit():
                    word = None  # the "2" of "2>" names a file descriptor
                word = self._end_word(word, toks)
                if c == ')' and closer and depth == 0:
                    self.pos += 1
                    return toks
                depth += (c == '(') - (c == ')')
                toks.append(self._operator())
                if toks[-1] == '\n':
                    self._skip_heredocs()
            else:
                word = word or _Word()
                self._word_part(c, word)
        self._end_word(word, toks)
        if closer:
            raise _Unparseable('unterminated $(')
        return toks

    def _end_word(self, word, toks):
        if word is not None:
            marked = ''.join(word.parts)
            word.text = marked.translate(_BRACE_UNMARK)
            word.parts = None
            if toks and toks[-1] in ('<<', '<<-'):
                self.heredocs.append((word.text, toks[-1] == '<<-'))
                toks.append(word)
                return None
            texts = _expand_braces(marked) if _OPEN in marked else [marked]
            if len(texts) == 1:
                toks.append(word)
                return None
            for text in texts:  # touch src/{a,b}.py: one word per file, as bash makes them
                copy = _Word(text.translate(_BRACE_UNMARK), word.known)
                copy.plain, copy.subs, copy.parts = word.plain, word.subs, None
                toks.append(copy)
        return None

    def _operator(self):
        for op in _OPERATORS:
            if self.s.startswith(op, self.pos):
                self.pos += len(op)
                return op
        raise _Unparseable('not an operator')  # unreachable: callers check _META

    def _skip_heredocs(self):
        """Skip here-document bodies, which start after the line that asked for them."""
        s = self.s
        for delimiter, strip_tabs in self.heredocs:
            while self.pos < len(s):
                end = s.find('\n', self.pos)
                end = len(s) if end < 0 else end
                line = s[self.pos:end]
                self.pos = end + 1
                if (line.lstrip('\t') if strip_tabs else line) == delimiter:
                    break
        self.heredocs = []

    def _word_part(self, c, word):
        s, pos = self.s, self.pos
        if c == '\\':
            word.plain = False
            word.parts.append(s[pos + 1:pos + 2] or '\\')
            self.pos += 2
        elif c == "'":
            end = s.find("'", pos + 1)
            if end < 0:
                raise _Unparseable("unterminated '")
            word.plain = False
            word.parts.append(s[pos + 1:end])
            self.pos = end + 1
        elif c == '"':
            self._double_quoted(word)
        elif c == '$':
            self._dollar(word, quoted=False)
        elif c == '`':
            self._backtick(word)
        elif c == '~' and not word.parts and word.plain and s[pos + 1:pos + 2] in _TILDE_END:
            home = os.environ.get('HOME')
            word.parts.append(home if home else '~')
            word.plain = False
            self.pos += 1
        else:
            end = pos + 1
            while end < len(s) and s[end] not in _WORD_STOP:
                end += 1
            word.parts.append(s[pos:end].translate(_BRACE_MARKS))  # only unquoted braces expand
            self.pos = end

    def _double_quoted(self, word):
        s, n = self.s, len(self.s)
        word.plain = False
        self.pos += 1
        while self.pos < n:
            c = s[self.pos]
            if c == '"':
                self.pos += 1
                return
            if c == '$':
                self._dollar(word, quoted=True)
            elif c == '`':
                self._backtick(word)
            elif c == '\\':
                nxt = s[self.pos + 1:self.pos + 2]
                if nxt == '\n':
                    self.pos += 2  # line continuation
                elif nxt in ('"', '\\', '$', '`'):
                    word.parts.append(nxt)
                    self.pos += 2
                else:
                    word.parts.append('\\')  # other backslashes are literal here
                    self.pos += 1
            else:
                end = self.pos + 1
                while end < n and s[end] not in '"$`\\':
                    end += 1
                word.parts.append(s[self.pos:end])
                self.pos = end
        raise _Unparseable('unterminated "')

    def _dollar(self, word, quoted):
        s, i = self.s, self.pos + 1
        nxt = s[i:i + 1]
        word.plain = False
        if nxt == '(' and s.startswith('(', i + 1):
            word.known = False  # $(( arithmetic ))
            self.pos = self._skip_arithmetic(i)
        elif nxt == '(':
            self.pos = i + 1
            self._substitution(word)
        elif nxt == '{':
            end = s.find('}', i)
            if end < 0:
                raise _Unparseable('unterminated ${')
            self._expand(word, s[i + 1:end])
            self.pos = end + 1
        elif nxt and nxt in _NAME_START:
            end = i + 1
            while end < len(s) and s[end] in _NAME_CHARS:
                end += 1
            self._expand(word, s[i:end])
            self.pos = end
        elif nxt and nxt in '0123456789@*#?$!-':
            word.known = False  # positional and special parameters
            self.pos = i + 1
        elif nxt == "'" and not quoted:
            self._ansi_c_quoted(word, i + 1)
        elif nxt == '"' and not quoted:
            self.pos = i  # $"..." is an ordinary double-quoted string here
        else:
            word.parts.append('$')
            self.pos = i

    @staticmethod
    def _expand(word, name):
        value = os.environ.get(name) if _is_name(name) else None
        if value is None:
            word.known = False
        else:
            word.parts.append(value)

    def _ansi_c_quoted(self, word, i):
        s = self.s
        while i < len(s) and s[i] != "'":
            if s[i] == '\\' and i + 1 < len(s):
                word.parts.append(_ANSI_ESCAPES.get(s[i + 1], s[i:i + 2]))
                i += 2
            else:
                word.parts.append(s[i])
                i += 1
        if i >= len(s):
            raise _Unparseable("unterminated $'")
        self.pos = i + 1

    def _backtick(self, word):
        s, i, inner = self.s, self.pos + 1, []
        while i < len(s) and s[i] != '`':
            if s[i] == '\\' and s[i + 1:i + 2] in ('\\', '`', '$'):
                i += 1
            inner.append(s[i])
            i += 1
        if i >= len(s):
            raise _Unparseable('unterminated `')
        self.pos = i + 1
        word.plain = word.known = False
        if self.nest >= _MAX_NEST:
            raise _Unparseable('nested too deeply')
        word.subs.append(_Lexer(''.join(inner), self.nest + 1).tokens())

    def _substitution(self, word):
        """Lex the body of $( ), <( ) or >( ); self.pos is just after the '('."""
        if self.nest >= _MAX_NEST:
            raise _Unparseable('nested too deeply')
        self.nest += 1
        word.subs.append(self.tokens(closer=True))
        self.nest -= 1
        word.plain = word.known = False

    def _skip_arithmetic(self, i):
        """Index just past the ')' matching the '(' at i."""
        depth = 0
        for j in range(i, len(self.s)):
            if self.s[j] == '(':
                depth += 1
            elif self.s[j] == ')':
                depth -= 1
                if depth == 0:
                    return j + 1
        raise _Unparseable('unterminated ((')


class _Walker:
    """Walks a token list like the shell would, collecting write targets in out."""

    def __init__(self, toks, out, depth, nest):
        if nest > _MAX_NEST:
            raise _Unparseable('nested too deeply')
        self.toks, self.pos = toks, 0
        self.out = out      # resolved target paths, shared by nested walkers
        self.depth = depth  # bash -c / eval nesting
        self.nest = nest    # ( ), { }, $( ) nesting

    def run_list(self, cwd, closer=None):
        """Run commands up to closer (')' or '}') or the end; return the new cwd."""
        while self.pos < len(self.toks):
            tok = self.toks[self.pos]
            key = tok if type(tok) is str else (tok.text if tok.plain else None)
            if closer is not None and key == closer:
                self.pos += 1
                return cwd
            if key == '(' or key == '{':
                self.pos += 1
                inner = self._group(cwd, ')' if key == '(' else '}')
                cwd = inner if key == '{' else cwd  # only a ( ) subshell keeps its cd
            elif key in _SEPARATORS or key in _RESERVED or key in (')', '}'):
                self.pos += 1  # stray closers are tolerated: bash would not run it
            elif key == '[[':
                self._skip_test(cwd)
            else:
                cwd = self._simple(cwd)
        return cwd

    def _group(self, cwd, closer):
        self.nest += 1
        if self.nest > _MAX_NEST:
            raise _Unparseable('nested too deeply')
        cwd = self.run_list(cwd, closer)
        self.nest -= 1
        return cwd

    def _skip_test(self, cwd):
        """[[ ... ]]: '<' and '>' compare strings there, nothing is written."""
        while self.pos < len(self.toks):
            tok = self.toks[self.pos]
            self.pos += 1
            if type(tok) is not str:
                self._substitutions(tok, cwd)
                if tok.plain and tok.text == ']]':
                    return

    def _simple(self, cwd):
        """One simple command with its redirections; returns the shell's new cwd."""
        words, redirects, toks = [], [], self.toks
        while self.pos < len(toks):
            tok = toks[self.pos]
            if type(tok) is not str:
                words.append(tok)
                self.pos += 1
            elif tok in _REDIRECTS:
                target = toks[self.pos + 1] if self.pos + 1 < len(toks) else None
                if type(target) is not _Word:
                    raise _Unparseable('redirection without a target')
                redirects.append((tok, target))
                self.pos += 2
            elif tok == '(' and words and toks[self.pos + 1:self.pos + 2] == [')']:
                self.pos += 2  # "name()": a function definition, its body follows
                return cwd
            else:
                break
        for word in words + [target for _, target in redirects]:
            self._substitutions(word, cwd)
        for op, target in redirects:  # opened in the cwd from before a cd
            if op in _WRITE_REDIRECTS and not (op == '>&' and _is_fd(target.text)):
                self._add(target, cwd)
        return self._command(words, cwd)

    def _substitutions(self, word, cwd):
        for toks in word.subs:
            _Walker(toks, self.out, self.depth, self.nest + 1).run_list(cwd)

    def _add(self, word, cwd):
        path = _resolve(word, cwd)
        if path is not None:
            self.out.append(path)

    def _command(self, words, cwd):
        start = 0
        while start < len(words) and _is_assignment(words[start].text):
            start += 1  # FOO=1 cmd
        words, shell_cwd = words[start:], cwd
        for wrappers in range(_MAX_WRAPPERS):
            if not words or not words[0].known:
                return shell_cwd
            name = os.path.basename(words[0].text)
            if name not in _WRAPPERS:
                break
            words, cwd = self._unwrap(name, words[1:], cwd)
        else:
            raise _Unparseable('too many command prefixes')
        if name in ('cd', 'pushd', 'popd') and not wrappers:  # "sudo cd" changes nothing
            return None if name == 'popd' else _cd(words[1:], cwd)
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, name, words[1:], cwd)
        return shell_cwd

    def _unwrap(self, name, args, cwd):
        """Strip a prefix like sudo/env/timeout; return the command it runs and its cwd."""
        opts, rest = _split(args, _SHORT_ARGS.get(name, ''), permute=False)
        given = {opt for opt, _ in opts}
        for opt, value in opts:
            if (name, opt) in (('env', '-C'), ('sudo', '-D')) or opt == '--chdir':
                cwd = _chdir(cwd, value)
        if name == 'sudo' and given & {'-e', '--edit'}:
            for word in rest:  # sudoedit
                self._add(word, cwd)
            return [], cwd
        if name == 'env':
            while rest and _is_assignment(rest[0].text):
                rest = rest[1:]
        if name == 'timeout':
            rest = rest[1:]  # the duration
        return rest, cwd

    def _reparse(self, word, cwd):
        """Analyse the string given to bash -c or eval as a command of its own."""
        if not word.known:
            return
        if self.depth >= _MAX_SHELL_DEPTH:
            raise _Unparseable('bash -c nested too deeply')
        toks = _Lexer(word.text).tokens()
        _Walker(toks, self.out, self.depth + 1, self.nest).run_list(cwd)

    # Command handlers: handler(self, name, args, cwd) appends to self.out.

    def _operands(self, name, args, cwd):
        for word in _split(args, _SHORT_ARGS.get(name, ''))[1]:
            self._add(word, cwd)

    def _output_option(self, name, args, cwd):
        for opt, value in _split(args, _SHORT_ARGS[name])[0]:
            if opt in _OUTPUT_OPTIONS[name] and value is not None:
                self._add(value, cwd)

    def _copy(self, name, args, cwd):
        """cp, mv, install, ln: the destination, plus mv's sources."""
        opts, ops = _split(args, _SHORT_ARGS[name])
        given = {opt for opt, _ in opts}
        if name == 'install' and given & {'-d', '--directory'}:
            for word in ops:
                self._add(word, cwd)
            return
        target_dir = _last(opts, ('-t', '--target-directory'))
        if target_dir is not None:
            sources, dest, into = ops, target_dir, True
        elif len(ops) >= 2:
            sources, dest, into = ops[:-1], ops[-1], None
        elif name == 'ln' and ops:
            sources, dest, into = ops, None, True  # the link is made in cwd
        else:
            return
        if name == 'mv':
            for word in sources:
                self._add(word, cwd)
        dest_path = _resolve(dest, cwd) if dest is not None else _join(cwd, '.')
        if dest_path is None:
            return
        if dest is not None:
            self.out.append(dest_path)
        if into is None:
            into = not given & {'-T', '--no-target-directory'} and os.path.isdir(dest_path)
        for word in sources if into else ():
            base = _basename(word)
            if base is not None:
                self.out.append(os.path.join(dest_path, base))

    def _sed(self, name, args, cwd):
        opts, ops = _split(args, _SHORT_ARGS['sed'])
        given = {opt for opt, _ in opts}
        if not given & {'-i', '--in-place'}:
            return
        ops = [word for word in ops if word.text or not word.known]  # BSD: sed -i '' ...
        if not given & {'-e', '-f', '--expression', '--file'}:
            ops = ops[1:]  # the first operand is the script
        for word in ops:
            self._add(word, cwd)

    def _perl(self, name, args, cwd):
        opts, ops = _split(_perl_bundles(args), _SHORT_ARGS['perl'], permute=False)
        given = {opt for opt, _ in opts}
        if '-i' not in given:
            return
        if not given & {'-e', '-E'}:
            ops = ops[1:]  # the first operand is the program file
        for word in ops:
            self._add(word, cwd)

    def _dd(self, name, args, cwd):
        for word in args:
            if word.text.startswith('of='):
                self._add(_Word(word.text[3:], word.known), cwd)

    def _chmod(self, name, args, cwd):
        """chmod/chown/chgrp: every operand after the mode or owner."""
        ops, by_reference, ended = [], False, False
        for word in args:
            text = word.text
            if ended or text[:1] != '-' or text == '-' or (name == 'chmod' and _is_mode(text)):
                ops.append(word)
            elif text == '--':
                ended = True
            elif text.startswith('--reference'):
                by_reference = True
        for word in ops if by_reference else ops[1:]:
            self._add(word, cwd)

    def _find(self, name, args, cwd):
        """find writes under its roots with -delete or a writing -exec command."""
        i = 0
        while i < len(args) and (args[i].text in ('-H', '-L', '-P', '-D') or args[i].text[:2] == '-O'):
            i += 2 if args[i].text == '-D' else 1  # leading options; -D takes an argument
        roots = []
        while i < len(args) and args[i].text[:1] not in ('-', '(', '!', ','):
            roots.append(args[i])
            i += 1
        writes = False
        while i < len(args):
            text = args[i].text
            if text == '-delete':
                writes = True
            elif text in ('-fprint', '-fprint0', '-fprintf', '-fls') and i + 1 < len(args):
                self._add(args[i + 1], cwd)
            elif text in ('-exec', '-execdir', '-ok', '-okdir'):
                end = i + 1
                while end < len(args) and args[end].text not in (';', '+'):
                    end += 1
                writes = self._would_write(args[i + 1:end], cwd) or writes
                i = end
            i += 1
        for word in (roots or [_Word('.')]) if writes else ():
            self._add(word, cwd)

    def _would_write(self, words, cwd):
        mark = len(self.out)
        _Walker([], self.out, self.depth, self.nest + 1)._command(words, cwd)
        wrote = len(self.out) > mark
        del self.out[mark:]
        return wrote

    def _git(self, name, args, cwd):
        opts, rest = _split(args, _SHORT_ARGS['git'], permute=False)
        for opt, value in opts:
            if opt == '-C':
                cwd = _chdir(cwd, value)
        if not rest or not rest[0].known:
            return
        sub, args = rest[0].text, rest[1:]
        texts = [word.text for word in args]
        if sub == 'checkout' and '--' in texts:
            paths = args[texts.index('--') + 1:]
        elif sub == 'checkout':  # no "--": operands naming existing paths
            paths = [w for w in _split(args, 'b:B:')[1] if os.path.lexists(_resolve(w, cwd) or '')]
        elif sub == 'restore':
            opts, paths = _split(args, 's:')
            given = {opt for opt, _ in opts}
            if given & {'-S', '--staged'} and not given & {'-W', '--worktree'}:
                return
        elif sub == 'rm':
            paths = [] if '--cached' in texts else _split(args, '')[1]
        elif sub == 'mv':
            return self._copy('mv', args, cwd)
        elif sub == 'clean':  # deletes untracked files under the pathspecs, or under cwd
            opts, paths = _split(args, 'e:')
            if {'-n', '--dry-run'} & {opt for opt, _ in opts}:
                return
            paths = paths or [_Word('.')]
        elif _git_writes_unknown(sub, args):
            raise _Unparseable('git ' + sub + ' writes files we cannot name')
        else:
            return
        for word in paths:
            self._add(word, cwd)

    def _shell(self, name, args, cwd):
        opts, ops = _split(args, _SHELL_SHORT_ARGS, permute=False)
        if ops and any(opt == '-c' for opt, _ in opts):
            self._reparse(ops[0], cwd)

    def _eval(self, name, args, cwd):
        if all(word.known for word in args):
            self._reparse(_Word(' '.join(word.text for word in args)), cwd)


_HANDLERS = {
    **dict.fromkeys(('rm', 'rmdir', 'unlink', 'shred', 'touch', 'truncate', 'mkdir', 'tee'),
                    _Walker._operands),
    **dict.fromkeys(('cp', 'mv', 'install', 'ln'), _Walker._copy),
    **dict.fromkeys(('chmod', 'chown', 'chgrp'), _Walker._chmod),
    **dict.fromkeys(('bash', 'sh', 'zsh', 'dash', 'ksh'), _Walker._shell),
    **dict.fromkeys(_OUTPUT_OPTIONS, _Walker._output_option),
    'sed': _Walker._sed, 'perl': _Walker._perl, 'dd': _Walker._dd,
    'find': _Walker._find, 'git': _Walker._git, 'eval': _Walker._eval,
}


def _perl_bundles(words):
    """Perl's bundled switches, one word each: -0 and -l take only digits (`-0pi` is -0 -p -i)."""
    out, i = [], 0
    while i < len(words):
        word, text = words[i], words[i].text
        i += 1
        if text == '--' or len(text) < 2 or text[0] != '-' or text[1] == '-':
            return out + [word] + list(words[i:])
        pieces, j = [], 1
        while j < len(text):
            c, k = text[j], j + 1
            if c in '0l':
                digits = '01234567'
                if c == '0' and text[k:k + 1] in ('x', 'X'):
                    k, digits = k + 1, '0123456789abcdefABCDEF'
                while k < len(text) and text[k] in digits:
                    k += 1
                pieces.append('-' + text[j:k])
                j = k
            elif c in 'eEIMmiCdDFxV':  # the rest of the word is this switch's value
                pieces.append('-' + text[j:])
                break
            else:
                pieces.append('-' + c)
                j = k
        out.extend(_Word(piece, word.known) for piece in pieces)
        if pieces and pieces[-1] in ('-e', '-E', '-I', '-M', '-m') and i < len(words):
            out.append(words[i])  # its value, never read as switches
            i += 1
    return out


def _git_writes_unknown(sub, args):
    """git commands that rewrite work-tree files without naming them."""
    texts = {word.text for word in args}
    if sub == 'apply':
        return not texts & {'--check', '--stat', '--numstat', '--summary', '--cached'}
    if sub == 'stash':
        operands = _split(args, '')[1]
        return not operands or operands[0].text not in ('list', 'show', 'drop', 'clear')
    if sub == 'reset':
        return bool(texts & {'--hard', '--merge', '--keep'})
    return False


_OPEN, _COMMA, _CLOSE = '\ue000', '\ue001', '\ue002'  # unquoted { , } while a word is read
_BRACE_MARKS = str.maketrans({'{': _OPEN, ',': _COMMA, '}': _CLOSE})
_BRACE_UNMARK = str.maketrans({_OPEN: '{', _COMMA: ',', _CLOSE: '}'})
_MAX_BRACE_WORDS = 256


def _expand_braces(text):
    """Bash brace expansion of one word (marked braces only): a{b,c}d, {1..3}, nested; capped."""
    depth, start = 0, -1
    for i, c in enumerate(text):
        if c == _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif c == _CLOSE and depth:
            depth -= 1
            if depth == 0:
                alternatives = _alternatives(text[start + 1:i])
                if alternatives is None:
                    continue  # not an expansion ({} or {x}): literal, look further on
                head, tail = text[:start], text[i + 1:]
                out = []
                for alt in alternatives:
                    for rest in _expand_braces(head + alt + tail):
                        out.append(rest)
                        if len(out) > _MAX_BRACE_WORDS:
                            raise _Unparseable('brace expansion too large')
                return out
    return [text]


def _alternatives(inner):
    """The pieces of {a,b} or {1..3}, or None when the braces expand to nothing new."""
    parts, depth, last = [], 0, 0
    for i, c in enumerate(inner):
        if c == _OPEN:
            depth += 1
        elif c == _CLOSE:
            depth -= 1
        elif c == _COMMA and depth == 0:
            parts.append(inner[last:i])
            last = i + 1
    if parts:
        return parts + [inner[last:]]
    low, dots, high = inner.partition('..')
    if dots and low.lstrip('-').isdigit() and high.lstrip('-').isdigit():
        a, b = int(low), int(high)
        if abs(b - a) > _MAX_BRACE_WORDS:
            raise _Unparseable('brace expansion too large')
        step = 1 if b >= a else -1
        return [str(n) for n in range(a, b + step, step)]
    if dots and len(low) == 1 and len(high) == 1 and low.isalpha() and high.isalpha():
        step = 1 if high >= low else -1
        return [chr(n) for n in range(ord(low), ord(high) + step, step)]
    return None


def _split(words, spec, permute=True):
    """GNU getopt over words: ([(option, value word or None)], operands).

    Without permute the first operand ends the options, as for sudo or bash.
    """
    opts, operands, i = [], [], 0
    while i < len(words):
        word, text = words[i], words[i].text
        i += 1
        if text == '--':
            operands.extend(words[i:])
            break
        if len(text) < 2 or text[0] != '-':
            operands.append(word)
            if not permute:
                operands.extend(words[i:])
                break
        elif text[1] == '-':
            name, eq, value = text.partition('=')
            if eq:
                opts.append((name, _Word(value, word.known)))
            elif name in _LONG_WITH_ARG and i < len(words):
                opts.append((name, words[i]))
                i += 1
            else:
                opts.append((name, None))
        else:
            for j in range(1, len(text)):
                kind = _arg_kind(spec, text[j])
                value = None
                if kind and j + 1 < len(text):
                    value = _Word(text[j + 1:], word.known)
                elif kind == 1 and i < len(words):
                    value = words[i]
                    i += 1
                opts.append(('-' + text[j], value))
                if kind:
                    break
    return opts, operands


def _arg_kind(spec, letter):
    """0: a flag, 1: takes an argument, 2: takes an optional attached one."""
    k = spec.find(letter) if letter != ':' else -1
    if k < 0 or not spec.startswith(':', k + 1):
        return 0
    return 2 if spec.startswith('::', k + 1) else 1


def _last(opts, names):
    value = None
    for opt, val in opts:
        if opt in names:
            value = val
    return value


def _resolve(word, cwd):
    """Absolute path of a word, or None if it cannot name a file we know."""
    if not word.known or word.text in ('', '-'):  # '-' means stdin/stdout
        return None
    return _join(cwd, word.text)


def _join(cwd, path):
    if not os.path.isabs(path):
        if cwd is None:
            raise _Unparseable('relative path after an unknown cd')
        path = os.path.join(cwd, path)
    return os.path.normpath(path)


def _chdir(cwd, word):
    """cwd after "-C DIR"-style options; None when it cannot be known."""
    if word is None or not word.known or (cwd is None and not os.path.isabs(word.text)):
        return None
    path = _join(cwd, word.text) if word.text else cwd
    return path if len(path) <= _PATH_MAX else None  # keeps "cd a; cd a; ..." linear


def _cd(args, cwd):
    """New cwd after cd/pushd ARGS (options like -P are ignored)."""
    args = [w for w in args if not (w.text.startswith('-') and w.text != '-')]
    if not args:
        home = os.environ.get('HOME', '')
        return os.path.normpath(home) if os.path.isabs(home) else None
    if args[0].text == '-' or args[0].text.startswith('+'):
        return None  # cd - / pushd +N: we do not know the previous directories
    return _chdir(cwd, args[0])


def _basename(word):
    if not word.known:
        return None
    base = os.path.basename(os.path.normpath(word.text))
    return base if base not in ('', '.', '..') else None


def _is_name(text):
    return text != '' and text[0] in _NAME_START and all(c in _NAME_CHARS for c in text)


def _is_assignment(text):
    eq = text.find('=')
    return eq > 0 and _is_name(text[:eq].rstrip('+'))


def _is_fd(text):
    return text == '-' or text.isdigit()


def _is_mode(text):
    """A chmod mode that looks like an option, such as -x or -rw."""
    return all(c in 'rwxXstugoa+-=,01234567' for c in text[1:])


def _is_device(path):
    return path in _NOT_FILES or path.startswith(('/dev/fd/', '/proc/self/fd/'))
