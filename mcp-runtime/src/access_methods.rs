//! The builder methods that set an access rule, written once for every
//! descriptor that carries one (tools, resources, templates, prompts).

/// Expands to `scopes`, `any_scope`, `roles` and `permissions` builder
/// methods that extend the `AccessRule` at the given field path of `self`.
macro_rules! access_rule_methods {
    ($($access:ident).+) => {
        /// Requires all of these scopes.
        pub fn scopes<S: Into<std::borrow::Cow<'static, str>>>(
            mut self,
            scopes: impl IntoIterator<Item = S>,
        ) -> Self {
            self.$($access).+.scopes.extend(scopes.into_iter().map(Into::into));
            self
        }

        /// Requires at least one of these scopes.
        pub fn any_scope<S: Into<std::borrow::Cow<'static, str>>>(
            mut self,
            scopes: impl IntoIterator<Item = S>,
        ) -> Self {
            self.$($access).+.any_scope.extend(scopes.into_iter().map(Into::into));
            self
        }

        /// Requires all of these roles.
        pub fn roles<S: Into<std::borrow::Cow<'static, str>>>(
            mut self,
            roles: impl IntoIterator<Item = S>,
        ) -> Self {
            self.$($access).+.roles.extend(roles.into_iter().map(Into::into));
            self
        }

        /// Who may call by kind: people, machine clients, or either (the
        /// default).
        pub fn callers(mut self, callers: crate::access::Callers) -> Self {
            self.$($access).+.callers = callers;
            self
        }

        /// Requires all of these permissions.
        pub fn permissions<S: Into<std::borrow::Cow<'static, str>>>(
            mut self,
            permissions: impl IntoIterator<Item = S>,
        ) -> Self {
            self.$($access).+.permissions.extend(permissions.into_iter().map(Into::into));
            self
        }
    };
}
