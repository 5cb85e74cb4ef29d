"""Addresses and phones as the shops' buyers write them: Chinese addresses parsed with jionlp
(administrative regions and codes), Latin-script addresses by country, phones with
phonenumbers. See docs/risk.md ("Addresses and phones") for why jionlp."""
