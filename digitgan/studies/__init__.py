"""Studies: experiments that train generators and classifiers and measure what one gives the other (amplify.py:
do generated digits help a classifier that has only a few real ones?)."""
