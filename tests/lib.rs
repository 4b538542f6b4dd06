//! Nothing to export: the black-box tests are in `api/`.
