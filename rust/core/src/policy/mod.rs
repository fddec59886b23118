//! Policies: the AST and admission (spec §2).
pub mod ast;
