"""Posts the user published, recorded from a review or with /posted."""
