//! The shape of the syntax tree: precedence, pipelines and redirections, through the
//! library API (no process is run).

use ariash::ast::{BinOp, Expr, ExprKind, PipeKind, PipeOp, Redirect, RedirectKind, Span, StmtKind};
use ariash::parser::parse;

fn one_expr(text: &str) -> Expr {
    let script = parse(text).expect("parses");
    match script.stmts.into_iter().next().map(|s| s.kind) {
        Some(StmtKind::Expr(e)) => e,
        other => panic!("not an expression statement: {other:?}"),
    }
}

#[test]
fn pipes_bind_tighter_than_and_and_question_covers_the_whole_pipeline() {
    let e = one_expr(r#"run("a") | run("b")? && run("c");"#);
    let ExprKind::Binary { op, lhs, .. } = e.kind else { panic!("expected &&") };
    assert_eq!(op, BinOp::And);
    let ExprKind::Pipeline(p) = lhs.kind else { panic!("expected a pipeline") };
    let PipeKind::Try(inner) = p.kind else { panic!("expected ?") };
    assert!(matches!(inner.kind, PipeKind::Pipe { op: PipeOp::Text, .. }));
}

#[test]
fn redirections_attach_to_the_stage_before_them() {
    let e = one_expr(r#"run("a") 2> "e" | run("b") > "o" 2>&1;"#);
    let ExprKind::Pipeline(p) = e.kind else { panic!("pipeline") };
    let PipeKind::Pipe { lhs, rhs, .. } = p.kind else { panic!("pipe") };
    assert!(matches!(
        lhs.kind,
        PipeKind::Redirect {
            redirect: Redirect { kind: RedirectKind::Write { fd: 2, append: false, .. }, .. },
            ..
        }
    ));
    let PipeKind::Redirect { inner, redirect } = rhs.kind else { panic!("redirect") };
    assert_eq!(redirect.kind, RedirectKind::Dup { fd: 2, from: 1 });
    assert!(matches!(
        inner.kind,
        PipeKind::Redirect { redirect: Redirect { kind: RedirectKind::Write { fd: 1, .. }, .. }, .. }
    ));
}

#[test]
fn a_spaced_comparison_after_an_int_is_not_a_redirection() {
    let e = one_expr("print(3 > 2);");
    let ExprKind::Call { args, .. } = e.kind else { panic!("call") };
    assert!(matches!(args[0].kind, ExprKind::Binary { op: BinOp::Gt, .. }));
}

#[test]
fn multiplication_binds_tighter_than_addition() {
    let e = one_expr("print(1 + 2 * 3);");
    let ExprKind::Call { args, .. } = e.kind else { panic!("call") };
    let ExprKind::Binary { op, rhs, .. } = &args[0].kind else { panic!("binary") };
    assert_eq!(*op, BinOp::Add);
    assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
}

#[test]
fn a_missing_semicolon_points_after_the_statement() {
    let err = parse("int:n = 1\nprint(n);").expect_err("missing ;");
    assert_eq!(err.code, "ariash::parse::missing_semicolon");
    assert_eq!(err.span, Span::new(9, 9));
}
