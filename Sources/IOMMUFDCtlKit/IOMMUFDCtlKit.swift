// CLI support library.
