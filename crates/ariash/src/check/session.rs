//! Checking the REPL's lines one at a time: each line is checked with the variables and
//! functions the lines accepted before it declared, as an outer scope, so a line may declare
//! a variable again (shadowing the earlier one) or define a function again (replacing it).

use std::collections::HashMap;
use std::sync::Arc;

use super::{Checker, Var};
use crate::ast::{FuncDef, Script};
use crate::diag::Diag;

/// The names the accepted lines declared.
#[derive(Default)]
pub(crate) struct CheckSession {
    vars: HashMap<String, Var>,
    funcs: HashMap<String, Arc<FuncDef>>,
}

impl CheckSession {
    /// Checks one line; if it passes, its declarations are kept for the next lines. Runs on
    /// the current thread, which must be on the script stack.
    pub(crate) fn check_line(&mut self, line: &Script) -> Result<(), Vec<Diag>> {
        let mut c = Checker::new();
        if let Some(outer) = c.scopes.first_mut() {
            for (name, var) in &self.vars {
                outer.insert(name.clone(), Var { ty: var.ty.clone(), span: var.span });
            }
        }
        c.collect_funcs(line);
        for (name, f) in &self.funcs {
            c.funcs.entry(name.clone()).or_insert_with(|| Arc::clone(f));
        }
        c.scopes.push(HashMap::new());
        for stmt in &line.stmts {
            c.stmt(stmt);
        }
        c.finish()?;
        for scope in c.scopes {
            self.vars.extend(scope);
        }
        self.funcs = c.funcs;
        Ok(())
    }

    /// Whether `name` is a variable or function of an accepted line.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.vars.contains_key(name) || self.funcs.contains_key(name)
    }
}
