//! Query-string parameters: pagination and filters, each validated with a message naming it.

use std::collections::HashMap;

use authy2_core::{PageRequest, ValidationErrors};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;

/// The decoded query string.
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(query) = parts.uri.query() else {
            return Ok(Self::default());
        };
        let mut params = HashMap::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if params
                .insert(key.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(ApiError::invalid(&key, "must be given once"));
            }
        }
        Ok(Self(params))
    }
}

impl QueryParams {
    /// A raw parameter, when present. `?page=` is present and empty, which no parser accepts.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Parses one parameter, recording a failure under its name.
    pub fn parse<T>(
        &self,
        name: &str,
        errors: &mut ValidationErrors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        errors.check(name, parse(self.get(name)?))
    }

    /// `page` and `per_page`, defaulting to 1 and 20.
    pub fn page(&self, errors: &mut ValidationErrors) -> PageRequest {
        let defaults = PageRequest::default();
        let page = self
            .parse("page", errors, PageRequest::parse_page)
            .unwrap_or(defaults.page());
        let per_page = self
            .parse("per_page", errors, PageRequest::parse_per_page)
            .unwrap_or(defaults.per_page());
        PageRequest::new(page, per_page)
    }

    /// Just the pagination parameters, as a complete validation.
    pub fn page_only(&self) -> Result<PageRequest, ApiError> {
        let mut errors = ValidationErrors::new();
        let page = self.page(&mut errors);
        errors.into_result()?;
        Ok(page)
    }
}
