//! Pagination of lists.

/// Default page size.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Largest page size a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;

/// Which page of a list to return. Always within bounds once built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Validates a 1-based page number.
    pub fn parse_page(raw: &str) -> Result<u32, String> {
        digits(raw)
            .filter(|page| (1..=1_000_000).contains(page))
            .ok_or_else(|| "must be a whole number from 1 to 1000000".to_owned())
    }

    /// Validates a page size.
    pub fn parse_per_page(raw: &str) -> Result<u32, String> {
        digits(raw)
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| format!("must be a whole number from 1 to {MAX_PER_PAGE}"))
    }

    /// A request from already validated numbers.
    pub fn new(page: u32, per_page: u32) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, MAX_PER_PAGE),
        }
    }

    /// 1-based page number.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Page size.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// Cuts one page out of a list that is already in memory.
    pub fn slice<T>(&self, items: Vec<T>) -> Page<T> {
        let total = items.len() as u64;
        let items = items
            .into_iter()
            .skip(usize::try_from(self.offset()).unwrap_or(usize::MAX))
            .take(self.per_page as usize)
            .collect();
        Page {
            items,
            total,
            request: *self,
        }
    }
}

/// A whole number written as plain digits (`u32::from_str` would also take a leading `+`).
fn digits(raw: &str) -> Option<u32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// One page of a list, with the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// Items on this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: u64,
    /// The page asked for.
    pub request: PageRequest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_bounded() {
        assert_eq!(PageRequest::parse_per_page("100"), Ok(100));
        assert!(PageRequest::parse_per_page("0").is_err());
        assert!(PageRequest::parse_per_page("101").is_err());
        assert!(PageRequest::parse_per_page("ten").is_err());
        assert!(PageRequest::parse_page("0").is_err());
        assert!(PageRequest::parse_page("-1").is_err());
        assert!(PageRequest::parse_page("+2").is_err());
        assert!(PageRequest::parse_per_page(" 5").is_err());
    }

    #[test]
    fn slices_in_memory_lists() {
        let page = PageRequest::new(2, 2).slice(vec![1, 2, 3, 4, 5]);
        assert_eq!(page.items, vec![3, 4]);
        assert_eq!(page.total, 5);
        assert!(PageRequest::new(9, 2).slice(vec![1]).items.is_empty());
    }
}
