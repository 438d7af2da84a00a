"""The NPI check digit: Luhn over the 9-digit base with the card-issuer prefix 80840."""


def npi_check_digit(base: str) -> int:
    """The check digit for a 9-digit NPI base."""
    total = 24  # the doubled-and-summed digits of the prefix 80840
    for position, char in enumerate(reversed(base)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    return (len(npi) == 10 and npi.isdigit() and npi[0] in "12"
            and npi_check_digit(npi[:9]) == int(npi[9]))
