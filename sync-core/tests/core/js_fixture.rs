// Filled in when the JS fixtures land.
