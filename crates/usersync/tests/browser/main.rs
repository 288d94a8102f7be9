//! End-to-end tests of the admin console in a real headless Chromium, driven
//! with fantoccini through chromedriver (being written).
