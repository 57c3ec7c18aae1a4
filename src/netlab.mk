# netlab client: owned by the client work
