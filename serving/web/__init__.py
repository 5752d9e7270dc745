"""The reviewer's web page: one static page that calls the JSON API with the reviewer's key."""
