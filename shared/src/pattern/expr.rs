//! Compiled boolean expressions: the evaluation side of [`super::ast::Expr`].

use super::ast::Expr;

#[derive(Debug, Clone)]
pub(crate) enum Node<L> {
    Or(Box<[Node<L>]>),
    And(Box<[Node<L>]>),
    Leaf(L),
}

impl<L> Node<L> {
    /// Builds the compiled tree, compiling each leaf with `leaf`.
    pub(crate) fn compile<C, E>(
        expr: &Expr<C>,
        leaf: &mut impl FnMut(&C) -> Result<L, E>,
    ) -> Result<Self, E> {
        Ok(match expr {
            Expr::Or(xs) => Node::Or(
                xs.iter()
                    .map(|x| Self::compile(x, leaf))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::And(xs) => Node::And(
                xs.iter()
                    .map(|x| Self::compile(x, leaf))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Leaf(c) => Node::Leaf(leaf(c)?),
        })
    }

    /// Short-circuit evaluation; leaves have no side effects, so order is free.
    #[inline]
    pub(crate) fn eval(&self, test: &mut impl FnMut(&L) -> bool) -> bool {
        match self {
            Node::Or(xs) => xs.iter().any(|x| x.eval(test)),
            Node::And(xs) => xs.iter().all(|x| x.eval(test)),
            Node::Leaf(l) => test(l),
        }
    }
}
