// The docs' cell file has no import of its own (in the library it is part of Recur); this
// makes Recur's public API visible to it here, as `import Recur` would in a user's file.
@_exported import Recur
