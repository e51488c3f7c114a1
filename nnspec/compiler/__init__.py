"""The compiler: parse, the passes from AST to checked IR, and code generation."""
