"""``python -m omnimdm``: the command line."""

from omnimdm.cli import main

if __name__ == "__main__":
    main()
